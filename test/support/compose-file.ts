import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const DOCKER_DIR = join(REPO_ROOT, 'docker');
export const COMPOSE_FILE = join(DOCKER_DIR, 'compose.yml');
export const ENV_EXAMPLE_FILE = join(DOCKER_DIR, '.env.example');

/** The parts of a compose service these checks read (the compose spec has many more). */
export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number | boolean | null>;
  /** The short form, `host_ip:published:target`: the one Compose 1.29 and v2 both read. */
  ports?: string[];
  expose?: unknown[];
  networks?: string[] | Record<string, unknown>;
  deploy?: { replicas?: number | string };
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: {
    test?: string[];
    disable?: boolean;
    interval?: string;
    timeout?: string;
    retries?: number;
    start_period?: string;
  };
  restart?: string;
  stop_grace_period?: string;
  container_name?: string;
  volumes?: string[];
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  networks?: Record<string, { internal?: boolean; ipam?: { config?: Array<{ subnet?: string }> } } | null>;
  volumes?: Record<string, unknown>;
}

export type Vars = Readonly<Record<string, string | undefined>>;

/** The compose file as YAML, merge keys (`<<: *anchor`) applied, variables not yet interpolated. */
export function readComposeRaw(): ComposeFile {
  return parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as ComposeFile;
}

/** The compose file as `docker compose config` would see it with these variables (the contents of docker/.env). */
export function loadCompose(vars: Vars): ComposeFile {
  return interpolateTree(readComposeRaw(), vars) as ComposeFile;
}

/** KEY=VALUE lines of an env file (compose's .env format: `#` comments, optional quotes). */
export function readEnvFile(path = ENV_EXAMPLE_FILE): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) vars[m[1]!] = m[2]!.trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return vars;
}

const VARIABLE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/**
 * Compose's interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
 * `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`. A `:?` variable that is unset or empty throws, as compose refuses to start.
 */
export function interpolate(text: string, vars: Vars): string {
  return text.replace(VARIABLE, (whole, braced?: string, op?: string, arg = '', bare?: string) => {
    if (whole === '$$') return '$';
    const name = (braced ?? bare)!;
    const value = vars[name];
    const set = value !== undefined;
    const nonEmpty = set && value !== '';
    switch (op) {
      case undefined:
        return value ?? '';
      case ':-':
        return nonEmpty ? value : interpolate(arg, vars);
      case '-':
        return set ? value : interpolate(arg, vars);
      case ':+':
        return nonEmpty ? interpolate(arg, vars) : '';
      case '+':
        return set ? interpolate(arg, vars) : '';
      case ':?':
      case '?':
        if (op === ':?' ? nonEmpty : set) return value!;
        throw new MissingVariableError(name, arg);
      default:
        throw new Error(`unsupported interpolation ${whole}`);
    }
  });
}

export class MissingVariableError extends Error {
  constructor(
    readonly variable: string,
    readonly hint: string,
  ) {
    super(`required variable ${variable} is missing a value: ${hint}`);
  }
}

function interpolateTree(node: unknown, vars: Vars): unknown {
  if (typeof node === 'string') return interpolate(node, vars);
  if (Array.isArray(node)) return node.map((n) => interpolateTree(n, vars));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, vars)]));
  }
  return node;
}

/** A service's environment as the process sees it: strings, null (`FOO:` with no value) left out. */
export function serviceEnv(compose: ComposeFile, service: string): Record<string, string> {
  const env = compose.services[service]?.environment ?? {};
  return Object.fromEntries(
    Object.entries(env).flatMap(([k, v]) => (v === null || v === undefined ? [] : [[k, String(v)]])),
  );
}

/** Every variable a `${VAR:?...}` or `${VAR?...}` makes required, in the raw file. */
export function requiredVariables(): string[] {
  const text = readFileSync(COMPOSE_FILE, 'utf8');
  return [...new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?\?/g)].map((m) => m[1]!))].sort();
}

/** Every variable with a `${VAR:-default}` (or `-`), in the raw file. */
export function defaultedVariables(): string[] {
  const text = readFileSync(COMPOSE_FILE, 'utf8');
  return [...new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?-/g)].map((m) => m[1]!))].sort();
}

/** `http://127.0.0.1:3000/health/live` out of a healthcheck `["CMD", "z2m-healthcheck", "3000", "/health/live"]`. */
export function healthcheckUrl(service: ComposeService): URL | undefined {
  const test = service.healthcheck?.test ?? [];
  const at = test.indexOf('z2m-healthcheck');
  return at < 0 ? undefined : new URL(`http://127.0.0.1:${test[at + 1]}${test[at + 2]}`);
}

/** Milliseconds of a compose duration (`1m30s`, `40s`, `500ms`). */
export function durationMs(value: string): number {
  let total = 0;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
  const re = /(\d+(?:\.\d+)?)(ms|us|h|m|s)/g;
  let consumed = '';
  for (const m of value.matchAll(re)) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed += m[0];
  }
  if (consumed !== value) throw new Error(`not a compose duration: ${value}`);
  return total;
}
