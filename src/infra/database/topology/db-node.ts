import { Pool, type PoolClient, type PoolConfig } from 'pg';
import type { DbNodeConfig } from '../../../config';
import { type Lsn } from './lsn';
import type { NodeObservation } from './node-probe';
import type { ReplicaLag } from './replication-lag';

const CLIENT_TIMEOUT_MARGIN_MS = 250;
const ignoreClientError = (): void => undefined;

export interface NodePoolSettings {
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
  readonly queryTimeoutMs: number;
  readonly applicationName: string;
}

/**
 * pg-pool's rejection of a request that waited connectionTimeoutMillis for a free client while the pool was full
 * (pg-pool 3.x `connect()`): an Error with no code, so its exact text is the only way to tell it from a failed
 * connect, which pg-pool reports as "Connection terminated due to connection timeout" or the socket's error.
 */
const POOL_WAIT_TIMEOUT = 'timeout exceeded when trying to connect';

/** A full pool is back-pressure; DbNode.connect() turns it into this, never into a node failure. */
export class PoolWaitTimeout extends Error {
  constructor(
    readonly waitedMs: number,
    override readonly cause: unknown,
  ) {
    super(`waited ${waitedMs} ms for a free pooled connection`);
    this.name = 'PoolWaitTimeout';
  }
}

/** The role a node reports for itself: not in recovery means it believes it is the primary. */
export type NodeRole = 'primary' | 'replica' | 'unknown';

/** unknown: not probed yet · suspect: a query failed on it and no probe has cleared it since · fenced: a losing primary claimant. */
export type NodeState = 'unknown' | 'healthy' | 'lagging' | 'down' | 'suspect' | 'fenced';

/** One PostgreSQL server: its query pool, its probe connection, and what the monitor last learned about it. */
export class DbNode {
  readonly pool: Pool;
  readonly probePool: Pool;
  observation?: NodeObservation;
  reachable?: boolean;
  lastError?: string;
  /** Set by a failed query (passive check); cleared only by a probe that started after it and succeeded. */
  failedAt?: number;
  fenced = false;
  lag?: ReplicaLag;
  lagging = false;
  /** The highest replay position seen, from probes and from live checks made for read-your-writes. */
  replayLsn: Lsn = 0n;

  constructor(
    readonly config: DbNodeConfig,
    settings: NodePoolSettings,
  ) {
    const base: PoolConfig = {
      connectionString: config.url,
      application_name: settings.applicationName,
      // Without both timeouts a frozen server (SIGSTOP, a dead NAT entry) hangs a pooled query forever.
      connectionTimeoutMillis: settings.connectTimeoutMs,
      statement_timeout: settings.queryTimeoutMs,
      // A little after statement_timeout: a slow statement is cancelled by the server (57014, not the node's
      // fault); only a server that cannot answer at all trips the client's timer (a node failure, retried).
      query_timeout: settings.queryTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
      keepAlive: true,
    };
    this.pool = new Pool({ ...base, max: settings.poolSize, idleTimeoutMillis: 30_000 });
    this.probePool = new Pool({
      ...base,
      max: 1,
      query_timeout: settings.connectTimeoutMs,
      statement_timeout: settings.connectTimeoutMs,
      idleTimeoutMillis: 0,
    });
    // pg-pool listens for a client's 'error' only while it is idle. A checked-out connection whose server dies
    // with no statement running (57P01 on a primary kill) emits 'error' on the client, which would crash the
    // process; its failure still reaches whoever uses it next, as a rejected statement.
    for (const pool of [this.pool, this.probePool])
      pool.on('connect', (client) => client.on('error', ignoreClientError));
  }

  get name(): string {
    return this.config.name;
  }

  get role(): NodeRole {
    if (!this.observation) return 'unknown';
    return this.observation.inRecovery ? 'replica' : 'primary';
  }

  get state(): NodeState {
    if (this.reachable === undefined) return 'unknown';
    if (!this.reachable) return 'down';
    if (this.fenced) return 'fenced';
    if (this.failedAt !== undefined) return 'suspect';
    return this.lagging ? 'lagging' : 'healthy';
  }

  /** A pooled connection; a PoolWaitTimeout when every one stayed busy for the whole connect timeout. */
  async connect(): Promise<PoolClient> {
    const started = Date.now();
    try {
      return await this.pool.connect();
    } catch (err) {
      if (err instanceof Error && err.message === POOL_WAIT_TIMEOUT && !('code' in err))
        throw new PoolWaitTimeout(Date.now() - started, err);
      throw err;
    }
  }

  /** Outstanding work in this process's pool: the least-busy strategy's measure. */
  get busy(): number {
    return this.pool.totalCount - this.pool.idleCount + this.pool.waitingCount;
  }

  observed(observation: NodeObservation): void {
    this.observation = observation;
    this.reachable = true;
    this.lastError = undefined;
    if (observation.inRecovery && observation.lsn > this.replayLsn) this.replayLsn = observation.lsn;
    if (!observation.inRecovery) this.replayLsn = 0n;
    if (this.failedAt !== undefined && observation.at > this.failedAt) this.failedAt = undefined;
  }

  unreachable(error: string): void {
    this.reachable = false;
    this.lastError = error;
    this.lag = undefined;
  }

  /** Ends both pools; a frozen server never answers the goodbye, so do not wait for it longer than a connect timeout. */
  async close(timeoutMs: number): Promise<void> {
    const ended = Promise.all([this.pool.end(), this.probePool.end()]).then(
      () => undefined,
      () => undefined,
    );
    await Promise.race([ended, new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }
}
