import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** helmet's defaults, with a CSP the API's pages and Swagger UI work under. */
export const SECURITY_HEADERS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: [`'self'`],
      // Swagger UI injects inline styles and data: images; scripts stay same-origin only.
      styleSrc: [`'self'`, `'unsafe-inline'`],
      imgSrc: [`'self'`, 'data:'],
      scriptSrc: [`'self'`],
      // Without TLS this directive would make browsers fetch the docs assets over https and blank the page.
      upgradeInsecureRequests: null,
    },
  },
};

export interface SecurityHeaders {
  readonly set: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
}

/**
 * The headers helmet sets for these options, computed once. @fastify/helmet builds a helmet middleware and
 * parses the CSP directives again on every request (11 % of an instance's CPU serving cache hits,
 * docs/benchmarks.md), although with static directives (no nonces, no per-route options) the answer never
 * changes. helmet itself stays the authority on which headers and values: it runs here, once, on a recording
 * response, and security-headers.spec.ts checks the result against helmet on a real Node response.
 */
export function helmetHeaders(options: HelmetOptions): SecurityHeaders {
  const set: Record<string, string> = {};
  const remove: string[] = [];
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      set[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => void remove.push(name.toLowerCase()),
  };
  let failure: unknown;
  // helmet's middleware is synchronous: it has called `next` by the time it returns.
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => (failure = err));
  if (failure) throw failure instanceof Error ? failure : new Error('helmet refused its options');
  return { set, remove };
}

/** Every response carries the precomputed headers; one onRequest hook, no per-request work beyond setting them. */
export function registerSecurityHeaders(fastify: FastifyInstance, options: HelmetOptions): void {
  const { set, remove } = helmetHeaders(options);
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.headers(set);
    for (const name of remove) reply.removeHeader(name);
    done();
  });
}
