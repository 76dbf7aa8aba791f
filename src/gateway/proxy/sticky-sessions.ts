import { createHash } from 'node:crypto';
import type { Upstream } from '../upstreams/upstream';
import type { UpstreamSet } from '../upstreams/upstream-set';

/**
 * Optional cookie affinity (off by default): a client keeps reaching the upstream that first served it
 * while that upstream is available. This API does not need it, since sessions live in Redis and any
 * instance serves any request; it is here for services that keep per-instance state. The cookie holds
 * a hash of the upstream, never its address.
 */
export class StickySessions {
  private readonly ids = new WeakMap<Upstream, string>();

  constructor(
    private readonly cookieName: string,
    private readonly set: UpstreamSet,
  ) {}

  idOf(upstream: Upstream): string {
    let id = this.ids.get(upstream);
    if (id === undefined) {
      id = createHash('sha256').update(upstream.url).digest('base64url').slice(0, 16);
      this.ids.set(upstream, id);
    }
    return id;
  }

  /** The cookie's value in a Cookie header, if any. */
  cookieValue(cookieHeader: string | undefined): string | undefined {
    if (!cookieHeader) return undefined;
    for (const pair of cookieHeader.split(';')) {
      const eq = pair.indexOf('=');
      if (eq !== -1 && pair.slice(0, eq).trim() === this.cookieName) return pair.slice(eq + 1).trim();
    }
    return undefined;
  }

  upstreamFor(id: string | undefined): Upstream | undefined {
    if (id === undefined) return undefined;
    return this.set.all.find((u) => this.idOf(u) === id);
  }

  /** Set-Cookie when the answering upstream is not the one the client's cookie names. */
  cookieFor(upstream: Upstream, currentId: string | undefined): string[] | null {
    const id = this.idOf(upstream);
    return id === currentId ? null : ['set-cookie', `${this.cookieName}=${id}; Path=/; HttpOnly; SameSite=Lax`];
  }
}
