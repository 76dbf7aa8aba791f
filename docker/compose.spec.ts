import Ajv from 'ajv';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
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
// The API's and the worker's liveness route; test/docker runs each health check against the real programs.
const LIVENESS = '/health/live';
const GATEWAY_HEALTH = '/_gateway/health';

const appConfigOf = (service: string): AppConfig => loadConfig(serviceEnv(compose, service));
const APP_DOCKERFILE = 'docker/Dockerfile';
const servicesBuilding = (dockerfile: string | undefined) =>
  Object.keys(compose.services).filter((n) => svc(n).build && svc(n).build!.dockerfile === dockerfile);
/** Services by name prefix: etcd-1..3, pg-1..2, sentinel-1..3. */
const numbered = (prefix: string) =>
  Object.keys(compose.services)
    .filter((n) => new RegExp(`^${prefix}-\\d+$`).test(n))
    .sort();
/** The value after `flag` in a command line. */
const flagOf = (command: readonly string[], flag: string) => command[command.indexOf(flag) + 1];

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
        'PATRONI_API_PASSWORD',
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
    const appServices = servicesBuilding(APP_DOCKERFILE);
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
    expect(svc('gateway').ports?.map((p) => Number(p.split(':').at(-1)))).toEqual([gateway.listen.port]);
    // Every listener binds all interfaces inside its container.
    expect([api.http.host, worker.http.host, gateway.listen.host]).toEqual(['0.0.0.0', '0.0.0.0', '0.0.0.0']);
  });

  it("the image's own HEALTHCHECK checks the API's default port and liveness route", () => {
    const dockerfile = readFileSync(join(DOCKER_DIR, 'Dockerfile'), 'utf8');
    const m = /^HEALTHCHECK .* CMD \["z2m-healthcheck", "(\d+)", "([^"]+)"\]$/m.exec(dockerfile);
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
    // The short form with the interface first (Compose 1.29 rejects the long form's host_ip).
    expect(svc('gateway').ports).toEqual(['127.0.0.1:8080:8080']);
    const exposed = loadCompose({ ...vars, GATEWAY_PUBLISHED_IP: '0.0.0.0', GATEWAY_PUBLISHED_PORT: '18080' });
    expect(exposed.services.gateway!.ports).toEqual(['0.0.0.0:18080:8080']);
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
    // The migration job waits for every stateful service; the programs wait for it, the gateway for an API.
    const healthy = (names: string[]) => Object.fromEntries(names.map((n) => [n, { condition: 'service_healthy' }]));
    expect(svc('migrate').depends_on).toEqual(healthy([...numbered('pg'), ...numbered('sentinel')]));
    expect(svc('api').depends_on).toEqual({ migrate: { condition: 'service_completed_successfully' } });
    expect(svc('worker').depends_on).toEqual(svc('api').depends_on);
    expect(svc('gateway').depends_on).toEqual({ api: { condition: 'service_healthy' } });
    for (const pg of numbered('pg')) expect(svc(pg).depends_on).toEqual(healthy(numbered('etcd')));
    for (const sentinel of numbered('sentinel')) expect(svc(sentinel).depends_on).toEqual(healthy(['redis-1']));
  });

  it('runs Redis the way BullMQ asks (AOF everysec, noeviction), under 3 Sentinels the apps ask for the master', () => {
    const nodes = numbered('redis');
    expect(nodes).toEqual(['redis-1', 'redis-2']);
    const password = vars.REDIS_PASSWORD;
    for (const n of nodes) {
      const command = svc(n).command!;
      const flag = (name: string) => flagOf(command, `--${name}`);
      expect([flag('appendonly'), flag('appendfsync'), flag('maxmemory-policy')]).toEqual([
        'yes',
        'everysec',
        'noeviction',
      ]);
      expect(flag('maxmemory')).toMatch(/^\d+[kmg]b$/i);
      // Each node takes the password, and can replicate from whichever node is master after a failover.
      expect([flag('requirepass'), flag('masterauth')]).toEqual([password, password]);
    }
    // Fixed addresses inside the backend subnet, outside the range Docker hands out: a Sentinel never has to look
    // up a name (a dead container's name stalls it into TILT mode), and no other container can take them.
    const ipam = compose.networks!.backend!.ipam!.config![0]! as { subnet: string; ip_range: string };
    const address = (n: string) => (svc(n).networks as Record<string, { ipv4_address: string }>).backend!.ipv4_address;
    expect(nodes.map(address)).toEqual(['10.231.0.11', '10.231.0.12']);
    expect([ipam.subnet, ipam.ip_range]).toEqual(['10.231.0.0/24', '10.231.0.128/25']);
    expect(svc('redis-2').command!.slice(-3)).toEqual(['--replicaof', address('redis-1'), '6379']);
    expect(svc('redis-1').command).not.toContain('--replicaof');

    const sentinels = numbered('sentinel');
    expect(sentinels).toHaveLength(3);
    const { target } = appConfigOf('api').redis;
    if (target.kind !== 'sentinel') throw new Error('compose runs Redis under Sentinel');
    expect(target.sentinels.map((a) => `${a.host}:${a.port}`)).toEqual(sentinels.map((n) => `${n}:26379`));
    for (const n of sentinels) {
      const script = svc(n).command!.join('\n');
      // Quorum 2 of 3: one Sentinel lost still elects. The same master name and password as the apps.
      expect(script).toContain(`sentinel monitor ${target.masterName} 10.231.0.11 6379 2`);
      expect(script).toContain(`sentinel auth-pass ${target.masterName} $REDIS_PASSWORD`);
      expect(serviceEnv(compose, n).REDIS_PASSWORD).toBe(password);
      expect(script).not.toContain('resolve-hostnames');
      expect(svc(n).healthcheck?.test?.join(' ')).toContain('-p 26379 ping');
    }
    expect(appConfigOf('api').redis.password).toBe(password);
  });

  it('runs PostgreSQL under Patroni (etcd x3, synchronous mode), with the app connecting to every member by name', () => {
    const members = numbered('pg');
    const etcd = numbered('etcd');
    expect(members).toEqual(['pg-1', 'pg-2']);
    expect(etcd).toEqual(['etcd-1', 'etcd-2', 'etcd-3']);
    const haImage = new Set([...members, ...etcd].map((n) => svc(n).image));
    expect(haImage.size).toBe(1);
    expect(servicesBuilding(undefined).sort()).toEqual([...etcd, ...members].sort());
    for (const n of [...members, ...etcd])
      expect(join(DOCKER_DIR, svc(n).build!.context)).toBe(join(DOCKER_DIR, 'patroni'));

    // Each etcd member knows all three, and advertises its own service name.
    for (const n of etcd) {
      const env = serviceEnv(compose, n);
      expect(env.ETCD_NAME).toBe(n);
      expect(env.ETCD_INITIAL_CLUSTER).toBe(etcd.map((e) => `${e}=http://${e}:2380`).join(','));
      expect([env.ETCD_ADVERTISE_CLIENT_URLS, env.ETCD_INITIAL_ADVERTISE_PEER_URLS]).toEqual([
        `http://${n}:2379`,
        `http://${n}:2380`,
      ]);
    }
    // Each Patroni member is named after its service and reached by that name; all of them use every etcd.
    for (const n of members) {
      const env = serviceEnv(compose, n);
      expect([env.PATRONI_NAME, env.PATRONI_POSTGRESQL_CONNECT_ADDRESS, env.PATRONI_RESTAPI_CONNECT_ADDRESS]).toEqual([
        n,
        `${n}:5432`,
        `${n}:8008`,
      ]);
      expect(env.PATRONI_ETCD3_HOSTS).toBe(etcd.map((e) => `${e}:2379`).join(','));
      expect([env.PATRONI_SUPERUSER_PASSWORD, env.PATRONI_REPLICATION_PASSWORD]).toEqual([
        vars.POSTGRES_PASSWORD,
        vars.REPLICATION_PASSWORD,
      ]);
      expect(env.PATRONI_RESTAPI_PASSWORD).toBe(vars.PATRONI_API_PASSWORD);
    }

    // The cluster-wide settings: no acknowledged write lost on failover, pg_rewind for a returning leader.
    const patroni = parse(readFileSync(join(DOCKER_DIR, 'patroni', 'patroni.yml'), 'utf8')) as PatroniYaml;
    expect(patroni.bootstrap.dcs).toMatchObject({ synchronous_mode: true, postgresql: { use_pg_rewind: true } });
    expect(patroni.postgresql.listen).toBe('0.0.0.0:5432');
    expect(patroni.restapi.listen).toBe('0.0.0.0:8008');
    // The binaries of the image's PostgreSQL major, and the post-bootstrap script the image installs.
    const haDockerfile = readFileSync(join(DOCKER_DIR, 'patroni', 'Dockerfile'), 'utf8');
    const major = /^ARG POSTGRES_IMAGE=postgres:(\d+)-trixie$/m.exec(haDockerfile)?.[1];
    expect(patroni.postgresql.bin_dir).toBe(`/usr/lib/postgresql/${major}/bin`);
    expect(haDockerfile).toContain(`COPY post-bootstrap.sh ${patroni.bootstrap.post_bootstrap}`);

    // The app connects to every member by name, as the role post-bootstrap.sh creates; no member is "the primary".
    const nodes = appConfigOf('api').db.nodes;
    expect(nodes.map((n) => n.name)).toEqual(members);
    const urls = nodes.map((n) => new URL(n.url));
    expect(urls.map((u) => `${u.hostname}:${u.port}${u.pathname}`)).toEqual(members.map((m) => `${m}:5432/app`));
    const bootstrapEnv = serviceEnv(compose, 'pg-1');
    for (const u of urls)
      expect([u.username, decodeURIComponent(u.password)]).toEqual([
        bootstrapEnv.APP_DB_USER,
        bootstrapEnv.APP_DB_PASSWORD,
      ]);
    expect(readFileSync(join(DOCKER_DIR, 'patroni', 'post-bootstrap.sh'), 'utf8')).toContain(
      'CREATE DATABASE app OWNER :"app_user"',
    );
  });

  it("shortens DNS timeouts everywhere: a dead container's name must not stall an election for 10 s", () => {
    for (const [name, s] of Object.entries(compose.services))
      expect({ name, dns_opt: (s as { dns_opt?: string[] }).dns_opt }).toEqual({
        name,
        dns_opt: ['timeout:1', 'attempts:2'],
      });
  });
});

interface PatroniYaml {
  restapi: { listen: string };
  bootstrap: { dcs: Record<string, unknown>; post_bootstrap: string };
  postgresql: { listen: string; bin_dir: string };
}

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
