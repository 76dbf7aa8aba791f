/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, so a proxy never forwards them; nor
 * `expect` (the gateway answers 100-continue itself) or `proxy-authorization` (meant for a forward proxy).
 * Compared by length first: this runs for every header of every request and response.
 */
export function isHopByHop(lowerName: string): boolean {
  switch (lowerName.length) {
    case 2:
      return lowerName === 'te';
    case 6:
      return lowerName === 'expect';
    case 7:
      return lowerName === 'trailer' || lowerName === 'upgrade';
    case 10:
      return lowerName === 'connection' || lowerName === 'keep-alive';
    case 16:
      return lowerName === 'proxy-connection';
    case 17:
      return lowerName === 'transfer-encoding';
    case 19:
      return lowerName === 'proxy-authorization';
    default:
      return false;
  }
}

/** Only names of these lengths can be hop-by-hop: lets the response path skip lower-casing the rest. */
export function mayBeHopByHop(nameLength: number): boolean {
  return (
    nameLength === 2 ||
    nameLength === 6 ||
    nameLength === 7 ||
    nameLength === 10 ||
    nameLength === 16 ||
    nameLength === 17 ||
    nameLength === 19
  );
}

/** Header names listed in a Connection header are hop-by-hop too (besides the close/keep-alive options). */
export function connectionTokens(value: string): string[] {
  const tokens: string[] = [];
  for (const raw of value.split(',')) {
    const t = raw.trim().toLowerCase();
    if (t && t !== 'close' && t !== 'keep-alive') tokens.push(t);
  }
  return tokens;
}
