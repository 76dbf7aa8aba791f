import { ServiceUnavailableException } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { RetryLaterException } from '../../http';
import type { DbNode } from '../topology/db-node';

/** Retry-After of a write refused for want of a primary: an HA engine elects a new one within seconds. */
const PRIMARY_RETRY_AFTER_S = 2;

/** A write (or a primary-only read) found no usable primary: 503 with Retry-After at once, never a hang or a 500. */
export class PrimaryUnavailableError extends RetryLaterException {
  constructor(reason: string, cause?: unknown) {
    super(
      `No database primary is reachable (${reason}): the database is failing over, so writes are paused while reads go on; try again shortly`,
      PRIMARY_RETRY_AFTER_S,
      { cause },
    );
  }
}

/**
 * Every connection of this instance's pool for the node was busy for the whole wait (DB_CONNECT_TIMEOUT_MS):
 * back-pressure from this process, not a sign that the node failed. 503 with Retry-After; the node stays in
 * rotation, and the read is not retried elsewhere (that would only add load where it is already queued).
 */
export class PoolBusyError extends RetryLaterException {
  constructor(
    readonly node: DbNode,
    waitedMs: number,
    cause?: unknown,
  ) {
    super(
      `This instance's connections to ${node.name} are all busy (waited ${waitedMs} ms for one); try again shortly`,
      1,
      { cause },
    );
  }
}

/** A read failed on every node it was allowed to try. */
export class DatabaseUnavailableError extends ServiceUnavailableException {
  constructor(reason: string, cause?: unknown) {
    super(`Database unavailable (${reason}); try again shortly`, { cause });
  }
}

/** A connection attempt to a replica failed before any statement was sent: the read may move elsewhere. */
export class NodeConnectionError extends Error {
  constructor(
    readonly node: DbNode,
    override readonly cause: unknown,
  ) {
    super(`${node.name}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'NodeConnectionError';
  }
}

// node-postgres and pg-pool errors that mean "the node did not answer", not "the query was wrong".
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// The driver gives these no code, so their text is all there is. Not pg-pool's "timeout exceeded when trying to
// connect": that is a wait for a free pooled connection (back-pressure), turned into PoolBusyError by DbNode.
const DRIVER_MESSAGES =
  /timeout expired|Connection terminated|Query read timeout|not queryable|Cannot use a pool after calling end/i;
// SQLSTATE class 08 (connection exception); 57P01-57P03: the server is shutting down, crashed, or not yet accepting.
const CONNECTION_SQLSTATE = /^(08...|57P0[123])$/;

function driverErrorOf(err: unknown): { code?: unknown; message?: unknown } | undefined {
  const e = err instanceof QueryFailedError ? (err.driverError as unknown) : err;
  return e && typeof e === 'object' ? e : undefined;
}

/** The node failed, not the statement: the query may move to another node (reads only) and the node is suspect. */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof NodeConnectionError) return true;
  if (err instanceof PoolBusyError) return false;
  const e = driverErrorOf(err);
  if (!e) return false;
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || CONNECTION_SQLSTATE.test(e.code))) return true;
  return typeof e.message === 'string' && DRIVER_MESSAGES.test(e.message);
}

/** A hot-standby query cancelled because replay had to remove rows it was reading (SQLSTATE 40001 on a replica). */
export function isRecoveryConflict(err: unknown): boolean {
  const e = driverErrorOf(err);
  return e?.code === '40001' && typeof e.message === 'string' && /conflict with recovery/i.test(e.message);
}

/** SQLSTATE 25006: the node we took for the primary is read-only now (demoted, or a replica). */
export function isReadOnlyNode(err: unknown): boolean {
  return driverErrorOf(err)?.code === '25006';
}
