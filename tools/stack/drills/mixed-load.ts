import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export type RequestKind = 'read' | 'signed-in read' | 'write';

/** One request of the load: when it started, what it was, and how it ended (status 0: no HTTP answer). */
export interface Outcome {
  readonly at: number;
  readonly kind: RequestKind;
  readonly status: number;
  readonly ms: number;
  readonly retryAfter: string | null;
  /** For a failure: the error message the client got (or why it got none). */
  readonly error?: string;
}

interface User {
  readonly cookie: string;
  readonly name: string;
}

// Above the API's own deadlines (DB query timeout 5 s by default): a slow answer is measured, not cut off here.
const REQUEST_TIMEOUT_MS = 10_000;
const PASSWORD = 'correct horse battery staple';
const PACE_MS = 100;

/**
 * The built-in load of every drill, through the gateway as real clients send it: anonymous reads of an article,
 * and users who each read their own profile and write articles. Every request is recorded; every write that got a
 * 201 is remembered by id, so lost writes can be counted against the database afterwards.
 */
export class MixedLoad {
  readonly outcomes: Outcome[] = [];
  readonly acknowledged: string[] = [];
  private stopped = false;
  private loops: Promise<void>[] = [];
  private articleId = '';

  constructor(
    private readonly gateway: string,
    private readonly users = 3,
  ) {}

  /** Signs the users up and in and writes the article everyone reads; fails if the stack cannot serve that. */
  async start(): Promise<void> {
    const users = await Promise.all(Array.from({ length: this.users }, (_, i) => this.signUp(i)));
    const first = await this.send('POST', '/articles', users[0], { title: 'drill target', body: 'read by everyone' });
    if (first.status !== 201) throw new Error(`the stack did not accept a write before the drill (${first.status})`);
    this.articleId = ((await first.json()) as { id: string }).id;
    this.loops = [
      this.loop('read', () => this.send('GET', `/articles/${this.articleId}`)),
      this.loop('read', () => this.send('GET', '/articles?limit=5')),
      ...users.map((u) => this.loop('signed-in read', () => this.send('GET', '/auth/me', u))),
      ...users.map((u) => this.writeLoop(u)),
    ];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /** Until `predicate` holds for the outcomes so far, checking every 100 ms; false after `timeoutMs`. */
  async until(predicate: (outcomes: readonly Outcome[]) => boolean, timeoutMs: number): Promise<boolean> {
    for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(100)) {
      if (predicate(this.outcomes)) return true;
    }
    return predicate(this.outcomes);
  }

  private async loop(kind: RequestKind, request: () => Promise<Response>): Promise<void> {
    while (!this.stopped) {
      await this.record(kind, request);
      // About 8 requests a second per loop, 70 in all: a visible timeline, under the stack's per-IP rate limit.
      await sleep(PACE_MS);
    }
  }

  private async writeLoop(user: User): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const res = await this.record('write', () =>
        this.send('POST', '/articles', user, { title: `drill write ${i}`, body: `by ${user.name}` }),
      );
      if (res?.status === 201) this.acknowledged.push(((await res.json()) as { id: string }).id);
      // A refused write backs off as a client honouring Retry-After would, but faster: the gap is what is measured.
      await sleep(res?.status === 201 ? PACE_MS : 200);
    }
  }

  private async record(kind: RequestKind, request: () => Promise<Response>): Promise<Response | undefined> {
    const at = Date.now();
    let res: Response | undefined;
    let error: string | undefined;
    try {
      res = await request();
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const ms = Date.now() - at;
    const ok = res !== undefined && res.status === (kind === 'write' ? 201 : 200);
    if (res && !ok) error = ((await res.json().catch(() => ({}))) as { message?: string }).message ?? res.statusText;
    else if (res && res.status !== 201) await res.arrayBuffer().catch(() => undefined);
    this.outcomes.push({
      at,
      kind,
      status: res?.status ?? 0,
      ms,
      retryAfter: res?.headers.get('retry-after') ?? null,
      error,
    });
    return res;
  }

  private async signUp(i: number): Promise<User> {
    const name = `Drill User ${i + 1}`;
    return { cookie: await signUpDrillUser(this.gateway, name), name };
  }

  private send(method: string, path: string, user?: User, json?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (user) headers.cookie = user.cookie;
    if (json !== undefined) headers['content-type'] = 'application/json';
    return fetch(this.gateway + path, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  }
}

/** A new user, signed up and in through the gateway; resolves to the session cookie (`name=value`). */
export async function signUpDrillUser(gateway: string, name: string): Promise<string> {
  const email = `drill-${randomUUID()}@example.com`;
  const post = (path: string, json: unknown) =>
    fetch(gateway + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(json),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  const signup = await post('/auth/signup', { email, password: PASSWORD, name });
  if (signup.status !== 201) throw new Error(`drill signup failed (${signup.status})`);
  const login = await post('/auth/login', { email, password: PASSWORD });
  const cookie = login.headers.get('set-cookie')?.split(';')[0];
  if (login.status !== 200 || !cookie) throw new Error(`drill login failed (${login.status})`);
  return cookie;
}
