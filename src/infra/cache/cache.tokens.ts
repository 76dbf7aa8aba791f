/** The VersionedCacheStore on the cache's own Redis client. */
export const CACHE_STORE = Symbol('CACHE_STORE');
