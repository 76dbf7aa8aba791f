import type { ConnectionOptions, DefaultJobOptions } from 'bullmq';
import type { AppConfig } from '../../config';

type QueueConfig = AppConfig['queue'];

const reconnect = (attempt: number): number => Math.min(50 * 2 ** attempt, 2000) + Math.floor(Math.random() * 100);

/**
 * For Queue objects (the outbox relay, job lookups, admin routes, depth metrics): commands fail at once while
 * Redis is down instead of piling up in an offline queue, so no caller ever waits on a dead Redis.
 */
export function producerConnection(q: QueueConfig, name: string): ConnectionOptions {
  return {
    url: q.redisUrl,
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: q.commandTimeoutMs,
    commandTimeout: q.commandTimeoutMs,
    retryStrategy: reconnect,
  };
}

/** For Workers: blocking commands need `maxRetriesPerRequest: null`, and a worker simply waits for Redis to return. */
export function consumerConnection(q: QueueConfig, name: string): ConnectionOptions {
  return { url: q.redisUrl, connectionName: name, maxRetriesPerRequest: null, connectTimeout: q.commandTimeoutMs, retryStrategy: reconnect };
}

/** Retry and retention policy of every job. */
export function defaultJobOptions(q: QueueConfig): DefaultJobOptions {
  return {
    attempts: q.attempts,
    // backoffMs, 2x, 4x, ... with jitter, so a burst of failures does not retry in lockstep.
    backoff: { type: 'exponential', delay: q.backoffMs, jitter: 0.25 },
    // Completed jobs stay long enough for jobId dedupe to absorb an outbox redelivery, then go (bounded by count too).
    removeOnComplete: { age: q.keepCompleted.ageSeconds, count: q.keepCompleted.count },
    // Exhausted jobs are the dead-letter set: kept, with their error, for inspection and retry.
    removeOnFail: { age: q.keepFailedSeconds },
  };
}
