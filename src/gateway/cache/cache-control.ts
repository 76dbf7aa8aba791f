export interface CacheDirectives {
  readonly public: boolean;
  readonly private: boolean;
  readonly noStore: boolean;
  readonly noCache: boolean;
  readonly maxAge?: number;
  readonly sMaxAge?: number;
  readonly staleWhileRevalidate?: number;
  readonly staleIfError?: number;
}

const NONE: CacheDirectives = Object.freeze({ public: false, private: false, noStore: false, noCache: false });

/**
 * Parses Cache-Control (RFC 9111 §5.2). Hand-written because the edge cache needs only these
 * directives; `private="field"` and `no-cache="field"` count as plain private/no-cache (the safe
 * reading), and a malformed or negative delta-seconds is ignored, as if absent.
 */
export function parseCacheControl(header: string | undefined): CacheDirectives {
  if (!header) return NONE;
  const d: { -readonly [K in keyof CacheDirectives]: CacheDirectives[K] } = {
    public: false,
    private: false,
    noStore: false,
    noCache: false,
  };
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    const arg =
      eq === -1
        ? undefined
        : part
            .slice(eq + 1)
            .trim()
            .replace(/^"(.*)"$/, '$1');
    switch (name) {
      case 'public':
        d.public = true;
        break;
      case 'private':
        d.private = true;
        break;
      case 'no-store':
        d.noStore = true;
        break;
      case 'no-cache':
        d.noCache = true;
        break;
      case 'max-age':
        d.maxAge = seconds(arg) ?? d.maxAge;
        break;
      case 's-maxage':
        d.sMaxAge = seconds(arg) ?? d.sMaxAge;
        break;
      case 'stale-while-revalidate':
        d.staleWhileRevalidate = seconds(arg) ?? d.staleWhileRevalidate;
        break;
      case 'stale-if-error':
        d.staleIfError = seconds(arg) ?? d.staleIfError;
        break;
    }
  }
  return d;
}

function seconds(arg: string | undefined): number | undefined {
  if (arg === undefined || !/^\d{1,10}$/.test(arg)) return undefined;
  return Number(arg);
}
