import type { FastifyRequest } from 'fastify';
import type { CacheRef, CacheTarget } from '../../infra/cache';
import { canonicalUuid } from '../../infra/http';

/** Every page of the listing shares this version counter, so one bump retires them all. */
export const ARTICLE_LISTS = 'articles:list';

/**
 * One article's entry. The lookup runs before the id pipe, so the key canonicalises the raw id the same way
 * (upper and lower case are one entry, as they are one row); a malformed id answers 400 and is never stored.
 */
export const articleKey = (request: FastifyRequest): string =>
  `article:${canonicalUuid((request.params as { id?: string }).id ?? '')}`;

/** The same entries for code that has the id or the cursor, not a request (the HTML pages share them). */
export const articleRef = (id: string): CacheRef => ({ key: `article:${id}`, versionKey: `article:${id}` });
// Encoded as a client encodes it in `GET /articles?cursor=`, so one query is one key whichever route asked.
export const articleListRef = (cursor?: string): CacheRef => ({
  key: `${ARTICLE_LISTS}:${cursor === undefined ? '' : `cursor=${encodeURIComponent(cursor)}`}`,
  versionKey: ARTICLE_LISTS,
});

/**
 * One page of the listing, keyed by the exact raw query string: the lookup runs before validation, so only
 * a query that once validated can ever hit (`?limit=5&junk=1` never matches the entry of `?limit=5`).
 */
export function listPageKey(request: FastifyRequest): string {
  const query = request.url.indexOf('?');
  return `${ARTICLE_LISTS}:${query < 0 ? '' : request.url.slice(query + 1)}`;
}

/**
 * An article was created, written, rendered or deleted: its own entry, and every listing or page that may show it.
 * Creation counts too: a reader who asked a replica just before the insert replayed may have cached a 404.
 */
export const articleChanged = (id: string): CacheTarget => ({
  keys: [`article:${id}`],
  versionKeys: [`article:${id}`, ARTICLE_LISTS],
  // Its page and the front page, with every page of older articles (a purge of `/` covers each query string).
  pages: [`/a/${id}`, '/'],
});
