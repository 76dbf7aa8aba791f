export interface HttpResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  readonly body: T;
}

export interface RequestOptions {
  /** Sent as JSON with content-type application/json. */
  readonly json?: unknown;
  /** Sent as is; set the content-type yourself. */
  readonly raw?: string | Buffer;
  readonly headers?: Record<string, string>;
}

/**
 * A fetch-based client that keeps cookies like a browser would (one jar per client), so a test can play
 * one user across several API instances by pointing the same client at different base URLs.
 */
export class HttpClient {
  private readonly cookies = new Map<string, string>();

  constructor(public baseUrl: string) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  setCookie(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  get = <T = any>(path: string, opts?: RequestOptions) => this.request<T>('GET', path, opts);
  post = <T = any>(path: string, json?: unknown, opts?: RequestOptions) =>
    this.request<T>('POST', path, { ...opts, json });
  patch = <T = any>(path: string, json?: unknown, opts?: RequestOptions) =>
    this.request<T>('PATCH', path, { ...opts, json });
  delete = <T = any>(path: string, opts?: RequestOptions) => this.request<T>('DELETE', path, opts);

  async request<T = any>(
    method: string,
    path: string,
    { json, raw, headers = {} }: RequestOptions = {},
  ): Promise<HttpResponse<T>> {
    const h: Record<string, string> = { ...headers };
    if (this.cookies.size && !h.cookie) h.cookie = this.cookieHeader;
    let body: string | Buffer | undefined = raw;
    if (json !== undefined) {
      body = JSON.stringify(json);
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: h,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(30_000),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, text, body: parsed as T };
  }
}

/** The one error shape every non-2xx response must have. */
export const errorShape = (statusCode: number) => ({
  statusCode,
  error: expect.any(String),
  message: expect.any(String),
});
