import { connectionTokens, isHopByHop, mayBeHopByHop } from './hop-by-hop';

/**
 * Upstream raw response headers (undici hands over Buffers) to the flat string list Node's writeHead
 * takes as is, minus hop-by-hop headers: Node frames the response to the client itself.
 */
export function clientResponseHeaders(raw: readonly Buffer[]): string[] {
  const out: string[] = [];
  let tokens: string[] | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    if (mayBeHopByHop(name.length)) {
      const lower = name.toLowerCase();
      if (isHopByHop(lower)) {
        if (lower === 'connection') (tokens ??= []).push(...connectionTokens(raw[i + 1]!.toString('latin1')));
        continue;
      }
    }
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  if (tokens === null) return out;
  const drop = tokens;
  return out.filter((_, i, all) => !drop.includes(all[i - (i % 2)]!.toLowerCase()));
}

/** The value of the first header named `lower` in a flat list, or undefined. */
export function headerValue(headers: readonly string[], lower: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2)
    if (headers[i]!.length === lower.length && headers[i]!.toLowerCase() === lower) return headers[i + 1];
  return undefined;
}

/** Every value of the headers named `lower` (Set-Cookie and Vary may repeat). */
export function headerValues(headers: readonly string[], lower: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2)
    if (headers[i]!.length === lower.length && headers[i]!.toLowerCase() === lower) out.push(headers[i + 1]!);
  return out;
}
