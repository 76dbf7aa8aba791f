import { endOfWal, formatLsn, InvalidLsnError, lsnFromSortKey, lsnSortKey, maxLsn, parseLsn } from './lsn';

describe('LSN', () => {
  it('parses and formats PostgreSQL positions', () => {
    expect(parseLsn('0/0')).toBe(0n);
    expect(parseLsn('16/B374D848')).toBe(0x16b374d848n);
    expect(parseLsn('ffffffff/ffffffff')).toBe(2n ** 64n - 1n);
    expect(formatLsn(0x16b374d848n)).toBe('16/B374D848');
    expect(formatLsn(parseLsn('0/3000060'))).toBe('0/3000060');
  });

  it('orders positions numerically, not textually', () => {
    expect(parseLsn('0/A0000000') > parseLsn('0/9FFFFFFF')).toBe(true);
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
    expect(maxLsn(parseLsn('1/0'), parseLsn('0/FFFFFFFF'))).toBe(parseLsn('1/0'));
    expect(maxLsn(undefined, 5n)).toBe(5n);
    expect(maxLsn(5n, undefined)).toBe(5n);
  });

  it('has sort keys that compare as strings the way positions compare as numbers', () => {
    const positions = ['0/9FFFFFFF', '0/A0000000', '1/0', '0/1', 'A/0'].map(parseLsn);
    const byKey = [...positions].sort((a, b) => (lsnSortKey(a) < lsnSortKey(b) ? -1 : 1));
    expect(byKey).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
    expect(lsnFromSortKey(lsnSortKey(0x16b374d848n))).toBe(0x16b374d848n);
  });

  it.each(['', '0', '0/', '/0', 'g/0', '123456789/0', '0/0/0', ' 0/0', '0/0 ', "0/0'; DROP"])('rejects %j', (text) => {
    expect(() => parseLsn(text)).toThrow(InvalidLsnError);
  });

  it('rejects malformed sort keys', () => {
    expect(() => lsnFromSortKey('xyz')).toThrow(InvalidLsnError);
  });
});

describe('endOfWal', () => {
  const BLOCK = 8192;
  const SEGMENT = 16 * 1024 * 1024;

  it('leaves a position inside a page alone', () => {
    expect(endOfWal(parseLsn('0/3000060'), BLOCK, SEGMENT)).toBe(parseLsn('0/3000060'));
    expect(endOfWal(parseLsn('0/3002028'), BLOCK, SEGMENT)).toBe(parseLsn('0/3002028'));
  });

  it('moves a position just past a page header back to the page boundary, where replay stops', () => {
    expect(endOfWal(parseLsn('0/3002018'), BLOCK, SEGMENT)).toBe(parseLsn('0/3002000'));
  });

  it('does the same for the long header at the start of a WAL segment (after a segment switch)', () => {
    expect(endOfWal(parseLsn('0/6000028'), BLOCK, SEGMENT)).toBe(parseLsn('0/6000000'));
    // Offset 40 on a page that does not start a segment is an ordinary record end.
    expect(endOfWal(parseLsn('0/6002028'), BLOCK, SEGMENT)).toBe(parseLsn('0/6002028'));
  });
});
