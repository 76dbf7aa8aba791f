import type { IncomingHttpHeaders } from 'node:http';

/** Host (case-insensitive) plus the request target exactly as sent: path and query. */
export function primaryKey(host: string, target: string): string {
  return `${host.toLowerCase()} ${target}`;
}

/**
 * The key of one variant: the primary key plus the request's value of every header the response
 * varies on (absent and empty are the same), in the response's Vary order (sorted, lower-cased).
 */
export function variantKey(primary: string, vary: readonly string[], headers: IncomingHttpHeaders): string {
  if (vary.length === 0) return primary;
  let key = primary;
  for (const name of vary) key += `\n${name}: ${normalize(headers[name])}`;
  return key;
}

function normalize(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  return (Array.isArray(value) ? value.join(', ') : value).trim().replace(/\s+/g, ' ');
}

/** The path of a request target, without the query (what a purge matches). */
export function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

/** A purge pattern: an exact path, or a prefix when it ends in `*`. */
export function pathMatches(pattern: string, path: string): boolean {
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern;
}
