export { CacheModule } from './cache.module';
export { CacheAside, CACHE_HEADER_DOC } from './cache-aside.decorator';
export type { CacheAsideOptions } from './cache-aside.options';
export { CacheInvalidator, type CacheTarget } from './cache-invalidator';
export { CacheAsideReader, type CacheOutcome } from './cache-aside-reader';
export type { CacheRef } from './versioned-cache-store';
