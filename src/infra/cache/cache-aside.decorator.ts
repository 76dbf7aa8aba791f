import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { CacheAsideInterceptor } from './cache-aside.interceptor';
import { CACHE_ASIDE, type CacheAsideOptions } from './cache-aside.options';

/**
 * Cache-aside for a GET route: HIT serves Redis, MISS loads through the handler (one loader across
 * all instances) and stores, BYPASS serves the handler when Redis is down or slow. X-Cache says which
 * (document it on the route's OK response with CACHE_HEADER_DOC).
 */
export const CacheAside = (options: CacheAsideOptions): MethodDecorator =>
  applyDecorators(SetMetadata(CACHE_ASIDE, options), UseInterceptors(CacheAsideInterceptor));

/** The X-Cache response header, for a cached route's `@ApiOkResponse({ headers })`. */
export const CACHE_HEADER_DOC = {
  'X-Cache': {
    description: 'HIT, MISS, or BYPASS (Redis down or slow)',
    schema: { type: 'string', enum: ['HIT', 'MISS', 'BYPASS'] },
  },
};
