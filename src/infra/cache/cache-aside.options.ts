import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config';

export const CACHE_ASIDE = Symbol('cache-aside');

export interface CacheAsideOptions {
  /**
   * The entry's key, from the raw request (it runs before validation). The response must be the same
   * for everyone who sends this key: per-user data goes under `scope: 'user'`, which adds the user's id.
   */
  readonly key: (request: FastifyRequest) => string;
  /** The version counter guarding the entry (defaults to the key): list pages share one, so one bump retires them all. */
  readonly versionKey?: (request: FastifyRequest) => string;
  /** Entry lifetime before jitter, from config; defaults to CACHE_TTL_MS. */
  readonly ttlMs?: (config: AppConfig) => number;
  readonly scope?: 'public' | 'user';
}
