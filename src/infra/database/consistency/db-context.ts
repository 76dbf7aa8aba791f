import { AsyncLocalStorage } from 'node:async_hooks';
import { type Lsn, maxLsn, parseLsn } from '../topology/lsn';

/**
 * What the database layer remembers about one HTTP request or one background job. Node's own AsyncLocalStorage
 * rather than a Nest CLS library: the router reads it inside TypeORM's driver, and the CLI and the benchmark use
 * the same driver without any Nest context.
 */
/** Where a request's session, if any, keeps its last write position (Redis, in the API). */
export interface SessionPositions {
  /** The session id, or undefined for an anonymous request; asked lazily (sign-in changes it mid-request). */
  sessionId(): string | undefined;
  lookup(sessionId: string): Promise<Lsn | undefined>;
}

export class DbRequest {
  /** `primary` or replica names, in the order first used: the X-Db-Node debug header. */
  readonly nodesUsed = new Set<string>();
  /** Something went to the primary through a write path: later reads stick to it, and the session's LSN is recorded. */
  primaryTouched = false;
  private lookedUp?: { readonly sessionId: string; readonly lsn: Promise<Lsn | undefined> };

  constructor(private readonly sessions?: SessionPositions) {}

  /** Whether reads must reach a session's position: anonymous requests skip the lookup entirely. */
  get hasSession(): boolean {
    return this.sessions?.sessionId() !== undefined;
  }

  /** The session's last write position, fetched once per request (and session id) on the first read that needs it. */
  sessionFloor(): Promise<Lsn | undefined> {
    const sessionId = this.sessions?.sessionId();
    if (sessionId === undefined) return Promise.resolve(undefined);
    if (this.lookedUp?.sessionId !== sessionId) this.lookedUp = { sessionId, lsn: this.sessions!.lookup(sessionId) };
    return this.lookedUp.lsn;
  }
}

/** One scope inside a request or job; nested helpers narrow it (read from the primary, read at least this fresh). */
export interface DbScope {
  readonly request: DbRequest;
  readonly primaryReads: boolean;
  readonly minLsn?: Lsn;
}

const storage = new AsyncLocalStorage<DbScope>();

export function currentDbScope(): DbScope | undefined {
  return storage.getStore();
}

/** Runs `fn` as a new request or job: its own node list, its own read-your-writes floor. */
export function runInDbRequest<T>(request: DbRequest, fn: () => T): T {
  return storage.run({ request, primaryReads: false }, fn);
}

/** Reads inside `fn` go to the primary. For the few reads that must see the latest committed state (sign-in). */
export function readFromPrimary<T>(fn: () => T): T {
  const outer = storage.getStore();
  return storage.run({ request: outer?.request ?? new DbRequest(), primaryReads: true, minLsn: outer?.minLsn }, fn);
}

/**
 * Reads inside `fn` see at least WAL position `lsn` (from `currentPrimaryLsn()` after a commit): a replica that
 * has replayed it, or the primary. This is how a background job reads what the request that enqueued it wrote.
 */
export function runWithMinLsn<T>(lsn: string, fn: () => T): T {
  const floor = parseLsn(lsn);
  const outer = storage.getStore();
  return storage.run(
    {
      request: outer?.request ?? new DbRequest(),
      primaryReads: outer?.primaryReads ?? false,
      minLsn: maxLsn(outer?.minLsn, floor),
    },
    fn,
  );
}
