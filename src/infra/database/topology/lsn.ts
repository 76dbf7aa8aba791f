/**
 * A WAL position (pg_lsn), as a bigint: `16/B374D848` is (0x16 << 32) | 0xB374D848. Positions grow across
 * timelines too, so "replica replayed past the session's write" is a plain comparison.
 */
export type Lsn = bigint;

const LSN_TEXT = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i;

export class InvalidLsnError extends Error {
  constructor(text: string) {
    super(`not a PostgreSQL LSN: "${text.slice(0, 40)}" (expected e.g. "16/B374D848")`);
    this.name = 'InvalidLsnError';
  }
}

export function parseLsn(text: string): Lsn {
  const m = LSN_TEXT.exec(text);
  if (!m) throw new InvalidLsnError(text);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Fixed-width hex, so that comparing two keys as strings (in a Redis script) compares the positions. */
export function lsnSortKey(lsn: Lsn): string {
  return lsn.toString(16).padStart(16, '0');
}

export function lsnFromSortKey(key: string): Lsn {
  if (!/^[0-9a-f]{16}$/.test(key)) throw new InvalidLsnError(key);
  return BigInt(`0x${key}`);
}

// XLogPageHeaderData and XLogLongPageHeaderData, MAXALIGNed (src/include/access/xlog_internal.h).
const SHORT_PAGE_HEADER = 24n;
const LONG_PAGE_HEADER = 40n;

/**
 * pg_current_wal_insert_lsn() in the form replay positions take. When the last record ended exactly at a page
 * end, the insert position points past the next page's header, which a replica cannot replay until more WAL is
 * written: compared as is, an idle replica would look behind forever (after every WAL segment switch, say).
 */
export function endOfWal(insertLsn: Lsn, walBlockSize: number, walSegmentSize: number): Lsn {
  if (insertLsn % BigInt(walSegmentSize) === LONG_PAGE_HEADER) return insertLsn - LONG_PAGE_HEADER;
  if (insertLsn % BigInt(walBlockSize) === SHORT_PAGE_HEADER) return insertLsn - SHORT_PAGE_HEADER;
  return insertLsn;
}

export const maxLsn = (a: Lsn | undefined, b: Lsn | undefined): Lsn | undefined =>
  a === undefined ? b : b === undefined || a >= b ? a : b;
