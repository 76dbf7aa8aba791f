import type { FastifyRequest } from 'fastify';
import type { CacheTarget } from '../../infra/cache';

/** Every page of the listing shares this version counter, so one bump retires them all. */
export const ARTICLE_LISTS = 'articles:list';

/** One article's entry, keyed by the raw id (a malformed one answers 400 and is never stored). */
export const articleKey = (request: FastifyRequest): string => `article:${(request.params as { id?: string }).id}`;

/**
 * One page of the listing, keyed by the exact raw query string: the lookup runs before validation, so only
 * a query that once validated can ever hit (`?limit=5&junk=1` never matches the entry of `?limit=5`).
 */
export function listPageKey(request: FastifyRequest): string {
  const query = request.url.indexOf('?');
  return `${ARTICLE_LISTS}:${query < 0 ? '' : request.url.slice(query + 1)}`;
}

/**
 * An article was created, written, rendered or deleted: its own entry, and every page that may show it.
 * Creation counts too: a reader who asked a replica just before the insert replayed may have cached a 404.
 */
export const articleChanged = (id: string): CacheTarget => ({ keys: [`article:${id}`], versionKeys: [`article:${id}`, ARTICLE_LISTS] });
