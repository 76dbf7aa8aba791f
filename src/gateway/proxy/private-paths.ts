/**
 * Paths the gateway never forwards (GATEWAY_PRIVATE_PATHS, default /metrics): each instance's own numbers are
 * for the private network, where Prometheus scrapes the instances directly.
 */
export class PrivatePaths {
  private readonly prefixes: readonly string[];

  constructor(prefixes: readonly string[]) {
    this.prefixes = prefixes.map(normalise);
  }

  get enabled(): boolean {
    return this.prefixes.length > 0;
  }

  /** True for a prefix itself and anything below it, however the client spells it. */
  matches(target: string): boolean {
    const path = normalise(target);
    return this.prefixes.some((p) => path === p || path.startsWith(`${p}/`));
  }
}

// The API's router percent-decodes paths (/%6Detrics reaches /metrics), so compare decoded; case and duplicate or
// trailing slashes are folded too, erring towards refusing what the router might still match.
function normalise(target: string): string {
  let path = target;
  const query = path.search(/[?#]/);
  if (query !== -1) path = path.slice(0, query);
  // This runs for every proxied request: the decode and the folds only when there is something to undo.
  if (path.includes('%')) {
    try {
      path = decodeURIComponent(path);
    } catch {
      // Malformed escapes: the API answers 400 for them; compare the raw form.
    }
  }
  path = path.toLowerCase();
  if (path.includes('//')) path = path.replace(/\/{2,}/g, '/');
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}
