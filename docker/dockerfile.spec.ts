import { type Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { execFile } from 'node:child_process';
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { envSchema } from '../src/config/config.schema';
import { gatewayEnvSchema } from '../src/gateway/config/gateway-config.schema';
import { DOCKER_DIR, REPO_ROOT } from '../test/support/compose-file';

/**
 * docker/Dockerfile without a Docker engine: BuildKit-grade syntax validation (dockerfile-utils, the VS Code
 * Docker extension's validator), the hadolint rules that matter here re-stated as checks (hadolint itself is
 * a Haskell binary that neither npm nor Debian provides on this machine), the build context, and the runtime deps.
 */
const text = readFileSync(join(DOCKER_DIR, 'Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(text);
const instructions = dockerfile.getInstructions();
const stages = dockerfile.getFROMs().map((from) => ({ from, start: from.getRange().start.line }));
const runtimeStart = stages.at(-1)!.start;
const inRuntime = (i: Instruction) => i.getRange().start.line >= runtimeStart;
const keyword = (k: string) => instructions.filter((i) => i.getKeyword() === k);
/** COPY --from=<stage>, or undefined for a copy from the build context. */
const copyFrom = (c: Instruction) => (c as Copy).getFromFlag()?.getValue() ?? undefined;
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The FROM image with the initial ARG defaults substituted (`ARG NODE_IMAGE=node:24...` then `FROM ${NODE_IMAGE}`). */
function resolvedImage(raw: string): string {
  return raw.replace(/\$\{?(\w+)\}?/g, (_, name: string) => {
    const arg = dockerfile.getInitialARGs().find((a) => a.getProperty()?.getName() === name);
    return arg?.getProperty()?.getValue() ?? '';
  });
}

describe('docker/Dockerfile', () => {
  it('has no syntax or semantic problem (dockerfile-utils validate)', () => {
    expect(
      validate(text).map(
        (d) => `${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`,
      ),
    ).toEqual([]);
  });

  it('builds in one stage and runs in another, from a pinned official Node LTS image that satisfies engines.node', () => {
    expect(stages.map((s) => s.from.getBuildStage())).toEqual(['build', 'runtime']);
    const images = new Set(stages.map((s) => resolvedImage(s.from.getImage()!)));
    expect(images.size).toBe(1);
    const [image] = [...images];
    // DL3006/DL3007: an explicit, full version tag, never latest; slim Debian (glibc: argon2's prebuilt binary).
    const m = /^node:(\d+)\.(\d+)\.(\d+)-trixie-slim$/.exec(image!);
    expect(m).not.toBeNull();
    const [major, minor] = [Number(m![1]), Number(m![2])];
    expect(major).toBe(24);
    const min = /^>=(\d+)\.(\d+)$/.exec(pkg.engines.node)!;
    expect(major > Number(min[1]) || (major === Number(min[1]) && minor >= Number(min[2]))).toBe(true);
    // Production runs the release the tests run on (.nvmrc, which .ci/run installs).
    expect(`${m![1]}.${m![2]}.${m![3]}`).toBe(readFileSync(join(__dirname, '..', '.nvmrc'), 'utf8').trim());
  });

  it('installs with npm ci, compiles, and prunes devDependencies before the runtime stage copies node_modules', () => {
    const runs = keyword('RUN').map((i) => i.getArgumentsContent() ?? '');
    // Install scripts off: the native modules load prebuilt binaries at run time (checked by running a pruned tree).
    expect(runs.some((r) => /\bnpm ci --ignore-scripts\b/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm install\b/.test(r))).toBe(false);
    expect(runs.some((r) => /npm run build && npm prune --omit=dev\b/.test(r))).toBe(true);
    const copiedFromBuild = keyword('COPY')
      .filter(inRuntime)
      .filter((c) => copyFrom(c) === 'build')
      .map((c) => c.getArguments().at(-2)!.getValue());
    expect(copiedFromBuild).toEqual(expect.arrayContaining(['/app/node_modules', '/app/dist', '/app/package.json']));
  });

  it('runs as a non-root user, with exec-form CMD and HEALTHCHECK and no curl (DL3002, DL3025)', () => {
    const users = keyword('USER')
      .filter(inRuntime)
      .map((u) => u.getArgumentsContent());
    expect(users.at(-1)).toBe('node');
    expect(keyword('ADD')).toEqual([]); // DL3020
    const cmd = keyword('CMD');
    expect(cmd).toHaveLength(1);
    expect(JSON.parse(cmd[0]!.getArgumentsContent()!)).toEqual(['node', 'dist/main.js']);
    const health = keyword('HEALTHCHECK');
    expect(health).toHaveLength(1);
    const healthCmd = /CMD (\[.*\])$/.exec(health[0]!.getArgumentsContent()!)![1]!;
    expect(JSON.parse(healthCmd)).toEqual(['z2m-healthcheck', '3000', '/health/live']);
    expect(text).not.toMatch(/\b(curl|wget)\b/);
    expect(
      keyword('ENV')
        .map((e) => e.getArgumentsContent())
        .join(' '),
    ).toMatch(/NODE_ENV=production/);
  });

  it("exposes the three programs' default ports (from the config schemas)", () => {
    const api = envSchema.parse({});
    const gateway = gatewayEnvSchema.parse({ UPSTREAM_DNS: 'api:1' });
    const exposed = keyword('EXPOSE').flatMap((e) => e.getArguments().map((a) => Number(a.getValue())));
    expect(exposed.sort()).toEqual([api.PORT, api.WORKER_HTTP_PORT, gateway.GATEWAY_PORT].sort());
  });

  it('copies only paths that exist and that .dockerignore lets into the context', () => {
    const sources = keyword('COPY')
      .filter((c) => copyFrom(c) === undefined)
      .flatMap((c) =>
        c
          .getArguments()
          .slice(0, -1)
          .map((a) => a.getValue()),
      );
    expect(sources.length).toBeGreaterThan(3);
    const ignore = dockerignore();
    for (const source of sources) {
      const files = listFiles(join(REPO_ROOT, source));
      expect({ source, files: files.length > 0 }).toEqual({ source, files: true });
      const shipped = files.filter((f) => !ignore(relative(REPO_ROOT, f)));
      // A spec file under src/ may be left out; everything else the COPY names must be there.
      expect({ source, missing: files.filter((f) => !shipped.includes(f) && !f.endsWith('.spec.ts')) }).toEqual({
        source,
        missing: [],
      });
    }
  });

  it('.dockerignore keeps secrets, dependencies, build output and history out of the context', () => {
    const ignore = dockerignore();
    for (const path of [
      'docker/.env',
      '.git/config',
      'node_modules/pg/package.json',
      'dist/main.js',
      '.stack/pids.json',
      'test/e2e/x.e2e-spec.ts',
      'src/main.spec.ts',
    ]) {
      expect({ path, ignored: ignore(path) }).toEqual({ path, ignored: true });
    }
    for (const path of ['src/main.ts', 'package-lock.json', 'static/demo.css', 'docker/patroni/healthcheck.sh']) {
      expect({ path, ignored: ignore(path) }).toEqual({ path, ignored: false });
    }
  });

  it('needs nothing from devDependencies at run time (every package src/ imports is a dependency)', () => {
    const builtins = new Set(builtinModules);
    const imported = new Set<string>();
    for (const file of listFiles(join(REPO_ROOT, 'src')).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))) {
      const source = readFileSync(file, 'utf8');
      // Value imports and re-exports; `import type` is erased by tsc.
      const specifiers = [
        ...source.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm),
        ...source.matchAll(/\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g),
      ].map((m) => m[1]!);
      for (const s of specifiers) {
        if (s.startsWith('.') || s.startsWith('node:') || builtins.has(s)) continue;
        imported.add(s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!);
      }
    }
    expect(imported.size).toBeGreaterThan(10);
    expect([...imported].filter((name) => !(name in pkg.dependencies)).sort()).toEqual([]);
  });
});

describe("docker/patroni/healthcheck.sh (every container's health check: one bash, no curl, no new runtime)", () => {
  const run = promisify(execFile);
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end(), 3_000);
      res.writeHead(req.url === '/health/live' ? 200 : req.url === '/created' ? 201 : 503).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const check = (...args: string[]) =>
    run('bash', [join(DOCKER_DIR, 'patroni', 'healthcheck.sh'), ...args]).then(
      () => 0,
      (err: { code: number }) => err.code,
    );

  it('exits 0 on a 2xx, 1 on any other status, on no listener, and on no answer within 2 s', async () => {
    expect(await check(String(port), '/health/live')).toBe(0);
    expect(await check(String(port), '/created')).toBe(0);
    expect(await check(String(port), '/health/ready')).toBe(1);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await check(String(closedPort), '/health/live')).toBe(1);
    const started = Date.now();
    expect(await check(String(port), '/slow')).toBe(1);
    expect(Date.now() - started).toBeLessThan(2_900);
  });

  it('is what the image, compose and the Patroni image run, and the app image ships it', () => {
    const patroni = readFileSync(join(DOCKER_DIR, 'patroni', 'Dockerfile'), 'utf8');
    expect(patroni).toMatch(/^COPY healthcheck\.sh \/usr\/local\/bin\/z2m-healthcheck$/m);
    expect(text).toMatch(/^COPY docker\/patroni\/healthcheck\.sh \/usr\/local\/bin\/z2m-healthcheck$/m);
  });
});

function listFiles(path: string): string[] {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return [];
  if (!st.isDirectory()) return [path];
  return readdirSync(path).flatMap((entry) => listFiles(join(path, entry)));
}

/**
 * .dockerignore as BuildKit reads it: patterns in order, the last one that matches a path or one of its
 * parents decides, `!` re-includes, `*` stays within one path segment and `**` spans any number of them.
 */
function dockerignore(): (path: string) => boolean {
  const rules = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = (negate ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
      const source = pattern
        .split('/')
        .map((seg) =>
          seg === '**'
            ? '(?:.*)'
            : seg
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\(\?:\.\*\)\//g, '(?:.*/)?');
      return { negate, re: new RegExp(`^${source}$`) };
    });
  return (path) => {
    const parts = path.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const { negate, re } of rules) if (candidates.some((c) => re.test(c))) ignored = !negate;
    return ignored;
  };
}
