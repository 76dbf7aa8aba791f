import Ajv from 'ajv';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type AppConfig } from '../src/config';
import { envSchema } from '../src/config/config.schema';
import { loadGatewayConfig } from '../src/gateway/config/gateway-config';
import { gatewayEnvSchema } from '../src/gateway/config/gateway-config.schema';
import {
  COMPOSE_FILE,
  DOCKER_DIR,
  defaultedVariables,
  durationMs,
  healthcheckUrl,
  loadCompose,
  MissingVariableError,
  readComposeRaw,
  readEnvFile,
  REPO_ROOT,
  requiredVariables,
  serviceEnv,
  type ComposeService,
} from '../test/support/compose-file';

/**
 * docker/compose.yml checked against what the programs need, without a Docker engine: the compose-spec schema,
 * the config schemas (every variable they require, ports, health paths, drain deadlines), and the topology.
 */
const vars = readEnvFile();
const compose = loadCompose(vars);
const svc = (name: string): ComposeService => {
  const s = compose.services[name];
  if (!s) throw new Error(`compose.yml has no service "${name}"`);
  return s;
};
/** Which program a service runs: the first dist/ script of its command. */
const programOf = (s: ComposeService): string | undefined => s.command?.find((a) => a.startsWith('dist/'));
const servicesRunning = (script: string) => Object.keys(compose.services).filter((n) => programOf(svc(n)) === script);
const networksOf = (s: ComposeService): string[] =>
  Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {});

const API = 'dist/main.js';
const WORKER = 'dist/worker.js';
const GATEWAY = 'dist/gateway/main.js';
const MIGRATIONS = 'dist/infra/database/data-source.js';
// The API's and the worker's liveness route; test/e2e/compose-topology runs each healthcheck against the real programs.
const LIVENESS = '/health/live';
const GATEWAY_HEALTH = '/_gateway/health';

const appConfigOf = (service: string): AppConfig => loadConfig(serviceEnv(compose, service));

describe('docker/compose.yml: the file', () => {
  it('is valid against the compose-spec JSON schema (as written, and after interpolation)', () => {
    // dclint ships the compose-spec project's compose-spec.json; dclint itself validates the same way (draft-07, union types).
    const { $schema, ...schema } = JSON.parse(
      readFileSync(join(REPO_ROOT, 'node_modules', 'dclint', 'schemas', 'compose.schema.json'), 'utf8'),
    );
    // Draft-07 (ajv's default); the file names it by its https URL, which ajv registers under http://.
    expect($schema).toMatch(/draft-07/);
    const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
    const validate = ajv.compile(schema);
    for (const doc of [readComposeRaw(), compose]) {
      const ok = validate(doc);
      expect(ok ? [] : validate.errors).toEqual([]);
    }
    // And it does reject what compose would: an unknown key, a bad depends_on condition.
    const broken = structuredClone(compose);
    (broken.services.api as Record<string, unknown>).replicas = 3;
    broken.services.gateway!.depends_on = { api: { condition: 'service_ready' } };
    expect(validate(broken)).toBe(false);
    expect(validate.errors!.map((e) => e.instancePath)).toEqual(
      expect.arrayContaining(['/services/api', '/services/gateway/depends_on/api/condition']),
    );
  });

  it('passes dclint (compose-spec schema plus its rules; only ordering style rules are off, see .dclintrc.json)', () => {
    const cli = join(REPO_ROOT, 'node_modules', 'dclint', 'bin', 'dclint.cjs');
    const out = execFileSync(
      process.execPath,
      [cli, '-c', join(DOCKER_DIR, '.dclintrc.json'), '--max-warnings', '0', '--color', 'false', COMPOSE_FILE],
      {
        encoding: 'utf8',
      },
    );
    expect(out.trim()).toBe('');
  });

  it('refuses to start without each secret, and .env.example names every variable', () => {
    const required = requiredVariables();
    expect(required).toEqual(
      expect.arrayContaining([
        'APP_DB_PASSWORD',
        'GATEWAY_ADMIN_TOKEN',
        'POSTGRES_PASSWORD',
        'REDIS_PASSWORD',
        'REPLICATION_PASSWORD',
        'SESSION_SECRET',
      ]),
    );
    for (const name of required) {
      expect(vars[name]).toBeTruthy();
      const without = { ...vars, [name]: '' };
      expect(() => loadCompose(without)).toThrow(MissingVariableError);
      try {
        loadCompose(without);
      } catch (err) {
        expect((err as MissingVariableError).variable).toBe(name);
      }
    }
    // Defaults are documented there too (commented out), so the example is the one list of knobs.
    const example = readFileSync(join(DOCKER_DIR, '.env.example'), 'utf8');
    for (const name of defaultedVariables()) expect(example).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
  });

  it('builds one image from the repository root and every app service runs it', () => {
    const appServices = Object.keys(compose.services).filter((n) => svc(n).build);
    expect(appServices.sort()).toEqual(['api', 'gateway', 'migrate', 'worker']);
    const images = new Set(appServices.map((n) => svc(n).image));
    expect(images.size).toBe(1);
    for (const n of appServices) {
      const { context, dockerfile } = svc(n).build!;
      expect(join(DOCKER_DIR, context)).toBe(REPO_ROOT);
      expect(existsSync(join(REPO_ROOT, dockerfile!))).toBe(true);
    }
    // Each command names a program the build produces.
    for (const n of appServices) {
      const script = programOf(svc(n))!;
      expect(existsSync(join(REPO_ROOT, 'src', script.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
    }
  });
});

describe('docker/compose.yml: what the programs need', () => {
  it('has one migration job, API, worker and gateway service', () => {
    expect(servicesRunning(API)).toEqual(['api']);
    expect(servicesRunning(WORKER)).toEqual(['worker']);
    expect(servicesRunning(GATEWAY)).toEqual(['gateway']);
    expect(servicesRunning(MIGRATIONS)).toEqual(['migrate']);
  });

  it('sets every variable the config schemas require (derived from the schemas, not listed here)', () => {
    // What an environment without any variable lacks in production is what the schemas require.
    const apiRequired = requiredBySchema(envSchema, { NODE_ENV: 'production' });
    const gatewayRequired = requiredBySchema(gatewayEnvSchema, { NODE_ENV: 'production' });
    expect(apiRequired).toContain('SESSION_SECRET');
    expect(gatewayRequired).toContain('UPSTREAMS');
    for (const n of ['api', 'worker', 'migrate']) {
      const env = serviceEnv(compose, n);
      for (const v of apiRequired) expect({ service: n, [v]: env[v] !== undefined }).toEqual({ service: n, [v]: true });
      expect(() => loadConfig(env)).not.toThrow();
      expect(appConfigOf(n).env).toBe('production');
    }
    const gatewayEnv = serviceEnv(compose, 'gateway');
    // UPSTREAMS or UPSTREAM_DNS: compose scaling presents instances through DNS.
    expect(gatewayEnv.UPSTREAM_DNS).toBeDefined();
    expect(() => loadGatewayConfig(gatewayEnv)).not.toThrow();
    expect(loadGatewayConfig(gatewayEnv).production).toBe(true);
  });

  it('leaves nothing pointing at the container itself (every 127.0.0.1 default is overridden)', () => {
    for (const n of ['api', 'worker', 'migrate'])
      expect({ service: n, loopback: loopbackValues(appConfigOf(n)) }).toEqual({ service: n, loopback: [] });
    const gateway = loadGatewayConfig(serviceEnv(compose, 'gateway'));
    // admin.host only binds a separate admin port, and none is configured: admin routes share the public port.
    expect(gateway.admin.port).toBeUndefined();
    expect(loopbackValues(gateway).filter((p) => p !== 'admin.host')).toEqual([]);
  });

  it("the same ports everywhere: listeners, health checks, the gateway's upstream name, the published port", () => {
    const api = appConfigOf('api');
    const worker = appConfigOf('worker');
    const gateway = loadGatewayConfig(serviceEnv(compose, 'gateway'));

    const apiHealth = healthcheckUrl(svc('api'))!;
    expect([apiHealth.hostname, Number(apiHealth.port), apiHealth.pathname]).toEqual([
      '127.0.0.1',
      api.http.port,
      LIVENESS,
    ]);
    const workerHealth = healthcheckUrl(svc('worker'))!;
    expect([workerHealth.hostname, Number(workerHealth.port), workerHealth.pathname]).toEqual([
      '127.0.0.1',
      worker.worker.httpPort,
      LIVENESS,
    ]);
    const gatewayHealth = healthcheckUrl(svc('gateway'))!;
    expect([gatewayHealth.hostname, Number(gatewayHealth.port), gatewayHealth.pathname]).toEqual([
      '127.0.0.1',
      gateway.listen.port,
      GATEWAY_HEALTH,
    ]);

    // The gateway resolves the API service's name and dials the API's port; it checks the API's readiness route.
    expect(gateway.discovery).toMatchObject({ kind: 'dns', host: 'api', port: api.http.port, servers: [] });
    expect(gateway.health.path).toBe(gatewayEnvSchema.parse({ UPSTREAM_DNS: 'x:1' }).UPSTREAM_HEALTH_PATH);
    expect(svc('gateway').ports?.map((p) => p.target)).toEqual([gateway.listen.port]);
    // Every listener binds all interfaces inside its container.
    expect([api.http.host, worker.http.host, gateway.listen.host]).toEqual(['0.0.0.0', '0.0.0.0', '0.0.0.0']);
  });

  it("the image's own HEALTHCHECK defaults to the API's port and liveness route", () => {
    const script = readFileSync(join(DOCKER_DIR, 'healthcheck.cjs'), 'utf8');
    const m = /process\.env\.PORT \|\| (\d+)\}(\/[\w/]+)/.exec(script);
    expect(m && [Number(m[1]), m[2]]).toEqual([envSchema.parse({}).PORT, LIVENESS]);
  });

  it('gives each program more stop time than its own shutdown deadline, so it exits by itself', () => {
    const api = appConfigOf('api');
    const worker = appConfigOf('worker');
    const gateway = loadGatewayConfig(serviceEnv(compose, 'gateway'));
    expect(durationMs(svc('api').stop_grace_period!)).toBeGreaterThan(
      api.shutdown.drainDelayMs + api.shutdown.timeoutMs,
    );
    expect(durationMs(svc('worker').stop_grace_period!)).toBeGreaterThan(
      worker.worker.drainTimeoutMs + worker.shutdown.timeoutMs,
    );
    expect(durationMs(svc('gateway').stop_grace_period!)).toBeGreaterThan(gateway.shutdownTimeoutMs);
    // The API's drain covers the gateway's detection (interval × fall), as docs/gateway.md requires.
    expect(api.shutdown.drainDelayMs).toBeGreaterThanOrEqual(gateway.health.intervalMs * gateway.health.fall);
  });

  it('runs the migrations with the command `npm run migration:run` runs', () => {
    const script = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).scripts['migration:run'] as string;
    const [bin, ...args] = script.split(/\s+/);
    expect(bin).toBe('typeorm');
    expect(svc('migrate').command).toEqual(['node', 'node_modules/typeorm/cli.js', ...args]);
    expect(existsSync(join(REPO_ROOT, 'node_modules', 'typeorm', 'cli.js'))).toBe(true);
  });
});

describe('docker/compose.yml: topology', () => {
  it("publishes one port, the gateway's, on 127.0.0.1 unless told otherwise", () => {
    const publishing = Object.keys(compose.services).filter((n) => svc(n).ports?.length);
    expect(publishing).toEqual(['gateway']);
    expect(svc('gateway').ports).toEqual([expect.objectContaining({ host_ip: '127.0.0.1', protocol: 'tcp' })]);
  });

  it('runs 3 API instances and a scalable worker (no fixed names or host ports)', () => {
    expect(svc('api').deploy?.replicas).toBe(3);
    for (const n of ['api', 'worker']) {
      expect(svc(n).container_name).toBeUndefined();
      expect(svc(n).ports).toBeUndefined();
    }
  });

  it('keeps everything but the gateway on an internal network, and the API trusts X-Forwarded-For from it only', () => {
    const backend = compose.networks?.backend;
    expect(backend?.internal).toBe(true);
    const subnets = backend?.ipam?.config?.map((c) => c.subnet) ?? [];
    expect(subnets).toHaveLength(1);
    for (const n of Object.keys(compose.services)) {
      expect({ service: n, networks: networksOf(svc(n)) }).toEqual({
        service: n,
        networks: n === 'gateway' ? ['edge', 'backend'] : ['backend'],
      });
    }
    expect(appConfigOf('api').http.trustProxy).toBe(subnets.join(','));
  });

  it('has a health check on every long-running service, and a depends_on condition on every dependency', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      const oneShot = s.restart === 'no';
      expect({ name, healthcheck: oneShot ? s.healthcheck?.disable === true : !!s.healthcheck?.test?.length }).toEqual({
        name,
        healthcheck: true,
      });
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        const target = svc(dep);
        if (condition === 'service_healthy')
          expect({ dep, healthcheck: !!target.healthcheck?.test?.length }).toEqual({ dep, healthcheck: true });
        else if (condition === 'service_completed_successfully')
          expect({ dep, restart: target.restart }).toEqual({ dep, restart: 'no' });
        else throw new Error(`${name} depends on ${dep} with condition ${condition}: wait for health or completion`);
      }
    }
    expect(svc('api').depends_on).toEqual({
      migrate: { condition: 'service_completed_successfully' },
      redis: { condition: 'service_healthy' },
    });
    expect(svc('worker').depends_on).toEqual(svc('api').depends_on);
    expect(svc('gateway').depends_on).toEqual({ api: { condition: 'service_healthy' } });
    expect(svc('migrate').depends_on).toMatchObject({ 'postgres-primary': { condition: 'service_healthy' } });
    expect(svc('postgres-replica-1').depends_on).toEqual({ 'postgres-primary': { condition: 'service_healthy' } });
  });

  it('runs Redis the way BullMQ asks (AOF everysec, noeviction) with the password the apps use', () => {
    const command = svc('redis').command!;
    const flag = (name: string) => command[command.indexOf(`--${name}`) + 1];
    expect([flag('appendonly'), flag('appendfsync'), flag('maxmemory-policy')]).toEqual([
      'yes',
      'everysec',
      'noeviction',
    ]);
    expect(flag('maxmemory')).toMatch(/^\d+[kmg]b$/i);
    const { target } = appConfigOf('api').redis;
    if (target.kind !== 'standalone') throw new Error('compose runs one standalone Redis');
    const redisUrl = new URL(target.url);
    expect([redisUrl.hostname, redisUrl.port, decodeURIComponent(redisUrl.password)]).toEqual([
      'redis',
      '6379',
      flag('requirepass'),
    ]);
  });

  it('bootstraps a streaming replica from the primary, with the settings a promoted replica needs', () => {
    const primary = svc('postgres-primary');
    const replica = svc('postgres-replica-1');
    const settings = (s: ComposeService) => s.command!.filter((_, i, all) => all[i - 1] === '-c');
    const withoutName = (s: ComposeService) => settings(s).filter((c) => !c.startsWith('cluster_name='));
    expect(withoutName(replica)).toEqual(withoutName(primary));
    expect(settings(primary)).toEqual(expect.arrayContaining(['wal_level=replica', 'hot_standby=on']));
    expect(primary.image).toBe(replica.image);
    expect(primary.image).toMatch(/^postgres:\d+\.\d+-/);

    // The replica clones from the primary service, as the replication role the primary's init script creates.
    const pEnv = serviceEnv(compose, 'postgres-primary');
    const rEnv = serviceEnv(compose, 'postgres-replica-1');
    expect([rEnv.PRIMARY_HOST, rEnv.REPLICATION_USER, rEnv.REPLICATION_PASSWORD]).toEqual([
      'postgres-primary',
      pEnv.REPLICATION_USER,
      pEnv.REPLICATION_PASSWORD,
    ]);
    const mounted = (s: ComposeService, target: RegExp) =>
      s.volumes?.find((v) => target.test(v.split(':')[1]!))?.split(':')[0];
    expect(existsSync(join(DOCKER_DIR, mounted(primary, /^\/docker-entrypoint-initdb\.d\/.+\.sh$/)!))).toBe(true);
    const entry = replica.entrypoint!.at(-1)!;
    expect(existsSync(join(DOCKER_DIR, replica.volumes!.find((v) => v.split(':')[1] === entry)!.split(':')[0]!))).toBe(
      true,
    );

    // The app connects as the role the init script creates, to the nodes by service name; node names match cluster_name.
    const nodes = appConfigOf('api').db.nodes;
    expect(nodes.map((n) => n.name)).toEqual(['primary', 'replica-1']);
    const hosts = nodes.map((n) => new URL(n.url));
    expect(hosts.map((u) => `${u.hostname}:${u.port}${u.pathname}`)).toEqual([
      'postgres-primary:5432/app',
      'postgres-replica-1:5432/app',
    ]);
    for (const u of hosts)
      expect([u.username, decodeURIComponent(u.password)]).toEqual([pEnv.APP_DB_USER, pEnv.APP_DB_PASSWORD]);
    expect(pEnv.POSTGRES_DB).toBe('app');
    expect(settings(replica)).toContain(`cluster_name=${nodes[1]!.name.replace(/-/g, '_')}`);
    expect(settings(primary)).toContain(`cluster_name=${nodes[0]!.name}`);
  });
});

/** Variables an environment of only `base` fails on: the ones a deployment must set. */
function requiredBySchema(
  schema: { safeParse(v: unknown): { success: boolean; error?: { issues: Array<{ path: PropertyKey[] }> } } },
  base: Record<string, string>,
): string[] {
  const result = schema.safeParse(base);
  return result.success ? [] : [...new Set(result.error!.issues.map((i) => String(i.path[0])))];
}

/** Dotted paths of every string in a config object that points at the local host. */
function loopbackValues(config: object, prefix = ''): string[] {
  return Object.entries(config).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    // The instance id is the container's hostname, not an address.
    if (path === 'instanceId') return [];
    if (typeof v === 'string') return /127\.0\.0\.1|localhost|(^|[,[])::1($|[,\]])/.test(v) ? [path] : [];
    if (v && typeof v === 'object') return loopbackValues(v as object, path);
    return [];
  });
}
