import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { failureReasons, until, writesBackSince } from '../../tools/stack/drills/drill-runner';
import { MixedLoad } from '../../tools/stack/drills/mixed-load';
import { renderTimeline, summarize, timeline } from '../../tools/stack/drills/timeline';
import { freePort } from '../../tools/stack/ports';
import { signUpAndLogIn } from '../support/accounts';
import { REPO_ROOT } from '../support/compose-file';
import { eventually } from '../support/eventually';
import { HttpClient } from '../support/http-client';
import { Load } from '../support/load';
import { ComposeProject, findDockerTools, patroniMembers } from './support/compose-project';

const run = promisify(execFile);

/**
 * docker/ for real: the image built, docker/compose.yml brought up on a Docker engine with Compose (Debian's 1.29
 * in CI, or v2), and the deployment driven through its one published port. Where the official base images
 * cannot be pulled (no Docker Hub here), test/docker/standin-images.sh builds stand-ins under their names first.
 * Runs after the other suites (`npm test`), alone: it needs the whole machine for a while.
 */
const tools = findDockerTools();
if ('skip' in tools) console.log(`docker suite skipped: ${tools.skip}`);
const describeWithEngine = 'skip' in tools ? describe.skip : describe;

describeWithEngine(
  'docker/compose.yml on a real Docker engine: build, up, the README flow, scale, leader kill, down',
  () => {
    let project: ComposeProject;
    const timings: Record<string, number> = {};
    const timed = async <T>(what: string, step: () => Promise<T>): Promise<T> => {
      const started = Date.now();
      try {
        return await step();
      } finally {
        timings[what] = Date.now() - started;
      }
    };
    const status = async () => {
      const res = await fetch(`${project.gatewayUrl}/_gateway/status`, {
        headers: { authorization: `Bearer ${project.secrets.GATEWAY_ADMIN_TOKEN}` },
        signal: AbortSignal.timeout(5_000),
      });
      return (await res.json()) as { upstreams: Array<{ url: string; available: boolean }> };
    };
    /** -1 while the gateway does not answer yet (the published port accepts before the program listens). */
    const availableUpstreams = async () =>
      status().then(
        (s) => s.upstreams.filter((u) => u.available).length,
        () => -1,
      );
    /** Which instances answered `n` sequential requests (X-Served-By is the container's hostname:port). */
    const servedBy = async (n: number) => {
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) {
        const res = await fetch(`${project.gatewayUrl}/health/live`, { signal: AbortSignal.timeout(5_000) });
        await res.arrayBuffer();
        if (res.ok) seen.add(res.headers.get('x-served-by') ?? '');
      }
      return seen;
    };

    /** The Redis master's address and port, as sentinel-1 names it to every client. */
    const redisMaster = async () => {
      const sentinel = await project.container('sentinel-1');
      const reply = await project.docker([
        'exec',
        sentinel,
        'redis-cli',
        '-p',
        '26379',
        'sentinel',
        'get-master-addr-by-name',
        'z2m',
      ]);
      return reply.trim().split('\n');
    };
    /** The PostgreSQL member Patroni calls Leader now. */
    const leaderContainer = async () => {
      const members = await patroniMembers(project, await project.container('pg-1'));
      return project.container(members.find((m) => m.Role === 'Leader')!.Member);
    };
    /** Acknowledged articles not found on a member: counted, not assumed. */
    const writesMissingOn = async (container: string, ids: readonly string[]) => {
      const found = await project.docker([
        'exec',
        container,
        'psql',
        '-U',
        'postgres',
        '-d',
        'app',
        '-Atc',
        `SELECT count(*) FROM articles WHERE id = ANY('{${ids.join(',')}}'::uuid[])`,
      ]);
      const missing = ids.length - Number(found.trim());
      console.log(`${ids.length} writes acknowledged, ${missing} of them missing`);
      return missing;
    };
    /**
     * The drills' mixed load through the gateway (anonymous reads, signed-in reads, writes from 3 users), a failure,
     * and the counted outcome once writes have gone away and come back by themselves.
     */
    const drillUnderLoad = async (what: string, inject: () => Promise<unknown>) => {
      const load = new MixedLoad(project.gatewayUrl);
      await load.start();
      await sleep(3_000);
      const injectedAt = Date.now();
      await inject();
      const back = await load.until(writesBackSince(injectedAt), 90_000);
      await sleep(2_000);
      await load.stop();
      const seconds = timeline(load.outcomes, injectedAt);
      const summary = summarize(load.outcomes.filter((o) => o.at >= injectedAt - 3_000));
      console.log(
        `kill of the ${what} through the gateway:\n${renderTimeline(seconds)}\n${JSON.stringify(summary)}\n` +
          failureReasons(load.outcomes).join('\n'),
      );
      return { back, seconds, summary, outcomes: load.outcomes, acknowledged: [...load.acknowledged] };
    };

    beforeAll(async () => {
      if ('skip' in tools) return;
      // The drill's load (about 70 requests a second from one client) would pass the default per-IP limit.
      project = new ComposeProject(tools, await freePort(), { RATE_LIMIT_MAX: '100000' });
      const standins = await timed('base images', () =>
        run('bash', [join(REPO_ROOT, 'test/docker/standin-images.sh')], {
          env: { ...process.env, DOCKER: tools.docker },
          timeout: 300_000,
        }),
      );
      console.log(`base images:\n${standins.stdout.trim()}`);
      await timed('build', () => project.compose(['build'], 600_000));
      await timed('up', () => project.compose(['up', '-d', '--no-build'], 300_000));
      await eventually(availableUpstreams, (n) => n === 3, 60_000, 500);
    }, 1_200_000);

    afterAll(async () => {
      if (!project) return;
      // Cleanup whatever happened; the `down -v` test below checks that it leaves nothing.
      if ((await project.containers().catch(() => [])).length) await project.destroy().catch(() => undefined);
      console.log(`docker suite timings (ms): ${JSON.stringify(timings)}`);
    }, 300_000);

    it('brings every service up healthy, PostgreSQL under Patroni with a synchronous standby, Redis under Sentinel', async () => {
      const containers = await project.containers();
      const running = containers.filter((c) => c.running).map((c) => c.service);
      expect(running.sort()).toEqual(
        [
          'api',
          'api',
          'api',
          'etcd-1',
          'etcd-2',
          'etcd-3',
          'gateway',
          'pg-1',
          'pg-2',
          'redis-1',
          'redis-2',
          'sentinel-1',
          'sentinel-2',
          'sentinel-3',
          'worker',
        ].sort(),
      );
      // The migration job ran and exited 0 (the APIs waited for it).
      expect(containers.filter((c) => c.service === 'migrate' && !c.running)).toHaveLength(1);
      // The worker names itself by its container's hostname and the port it serves on (WORKER_HTTP_PORT).
      const worker = containers.find((c) => c.service === 'worker')!;
      const hostname = (await project.docker(['inspect', '--format', '{{.Config.Hostname}}', worker.id])).trim();
      expect(await project.docker(['logs', worker.id])).toContain(`worker ${hostname}:3100 running`);
      const members = await patroniMembers(project, await project.container('pg-1'));
      expect(members.map((m) => m.Role).sort()).toEqual(['Leader', 'Sync Standby']);
      expect(await redisMaster()).toEqual([project.redisAddress('redis-1'), '6379']);
    }, 60_000);

    it('serves the README flow through the published gateway port', async () => {
      const client = new HttpClient(project.gatewayUrl);
      await signUpAndLogIn(client, 'Docker User');
      const created = await client.post('/articles', { title: 'From Docker', body: '# Hi\n\nfrom any instance' });
      expect(created.status).toBe(201);
      // Same session on other instances: it lives in Redis.
      const instances = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const me = await client.get('/auth/me');
        expect(me.status).toBe(200);
        instances.add(me.headers.get('x-served-by')!);
      }
      expect(instances.size).toBeGreaterThan(1);
      const list = await client.get('/articles');
      expect(list.status).toBe(200);
      expect(JSON.stringify(list.body)).toContain('From Docker');
      // The worker renders it (the queue runs through Sentinel's master).
      const rendered = await eventually(
        () => client.get(`/articles/${created.body.id}`),
        (r) => r.body?.render?.status === 'done',
        30_000,
        250,
      );
      expect(rendered.body.render.html).toContain('<h1>Hi</h1>');
      // The edge cache: a MISS, then a HIT.
      const css = async () =>
        (await fetch(`${project.gatewayUrl}/static/demo.css`, { method: 'HEAD' })).headers.get('x-edge-cache');
      expect(await css()).toBe('MISS');
      expect(await css()).toBe('HIT');
      expect(await availableUpstreams()).toBe(3);
    }, 90_000);

    it('--scale api=5: five instances serve; back to 3 under load without a failed request', async () => {
      await timed('scale to 5', () => project.compose(['up', '-d', '--no-build', '--scale', 'api=5'], 300_000));
      // The gateway re-resolves `api` by itself: no restart.
      await eventually(availableUpstreams, (n) => n === 5, 60_000, 500);
      expect((await servedBy(25)).size).toBe(5);

      const load = new Load({
        baseUrl: project.gatewayUrl,
        concurrency: 4,
        maxRequests: 20_000,
        maxMs: 120_000,
        pauseMs: 10,
        next: () => ({ op: 'read', method: 'GET', path: '/health/live' }),
      });
      await timed('scale to 3', () => project.compose(['up', '-d', '--no-build', '--scale', 'api=3'], 300_000));
      await eventually(availableUpstreams, (n) => n === 3, 30_000, 500);
      await load.stop();
      expect(load.count).toBeGreaterThan(100);
      // Stopped instances drained first (readiness off, in-flight requests finished): nothing failed.
      expect(load.failures()).toEqual([]);
    }, 300_000);

    it('kill of the PostgreSQL leader container: reads keep working, writes resume by themselves, 0 acknowledged writes lost', async () => {
      const via = await project.container('pg-1');
      const leaderName = (await patroniMembers(project, via)).find((m) => m.Role === 'Leader')!.Member;
      const leader = await project.container(leaderName);
      const survivor = await project.container(leaderName === 'pg-1' ? 'pg-2' : 'pg-1');

      const drill = await drillUnderLoad(`PostgreSQL leader ${leaderName}`, () => project.docker(['kill', leader]));
      const members = await patroniMembers(project, survivor);
      expect(members.find((m) => m.Role === 'Leader')?.Member).not.toBe(leaderName);
      expect(drill.back).toBe(true);
      // Patroni's leader lease (ttl 20 s, its floor) runs out, then an election and the apps' next probe.
      expect(drill.summary.writeUnavailableMs).toBeLessThan(32_000);
      expect(drill.summary.failedReads).toBe(0);
      expect(drill.summary.failedSignedInReads).toBe(0);
      expect(drill.summary.writesAcknowledged).toBeGreaterThan(20);
      expect(await writesMissingOn(survivor, drill.acknowledged)).toBe(0);

      // The old leader's container, started again, rejoins as a replica by itself (pg_rewind if it must).
      await project.docker(['start', leader]);
      const restartedAt = Date.now();
      const rejoined = await until(async () => {
        const m = (await patroniMembers(project, survivor)).find((x) => x.Member === leaderName);
        return m?.Role === 'Sync Standby' || (m?.Role === 'Replica' && m.State === 'streaming');
      }, 90_000);
      expect(rejoined).not.toBeNull();
      console.log(`${leaderName} back as a replica ${rejoined! - restartedAt} ms after its container started`);
    }, 300_000);

    it('kill of the Redis master container: Sentinel promotes the replica, the same sessions work again, no job lost', async () => {
      const masterName = async () => (await redisMaster())[0]!;
      const nodes = { [project.redisAddress('redis-1')]: 'redis-1', [project.redisAddress('redis-2')]: 'redis-2' };
      const before = nodes[await masterName()]!;
      const master = await project.container(before);

      const drill = await drillUnderLoad(`Redis master ${before}`, () => project.docker(['kill', master]));
      expect(nodes[await masterName()]).toBe(before === 'redis-1' ? 'redis-2' : 'redis-1');
      expect(drill.back).toBe(true);
      // Anonymous reads never need Redis: the cache is bypassed while it is away.
      expect(drill.summary.failedReads).toBe(0);
      // Signed-in requests need the session store: they fail until Sentinel (down-after 5 s) has promoted.
      expect(drill.seconds.filter((s) => s.failed['signed-in read'] > 0).length).toBeLessThanOrEqual(15);
      // The same cookies work afterwards (writes came back with them): no session was lost, and none answered 401.
      expect(drill.outcomes.filter((o) => o.status === 401)).toEqual([]);
      const survivor = await project.container(before === 'redis-1' ? 'redis-2' : 'redis-1');
      expect(await writesMissingOn(await leaderContainer(), drill.acknowledged)).toBe(0);
      // Every acknowledged article is rendered: its job went through the outbox to the new master and a worker.
      const client = new HttpClient(project.gatewayUrl);
      const unrendered = await eventually(
        async () => {
          const states = await Promise.all(
            drill.acknowledged.map(async (id) => (await client.get(`/articles/${id}`)).body?.render?.status),
          );
          return states.filter((s) => s !== 'done').length;
        },
        (n) => n === 0,
        60_000,
        1_000,
      );
      expect(unrendered).toBe(0);

      // The old master, started again, is made a replica of the new one: never a second, empty master.
      await project.docker(['start', master]);
      const rejoined = await until(
        async () => (await project.docker(['exec', master, 'redis-cli', 'role'])).startsWith('slave'),
        60_000,
      );
      expect(rejoined).not.toBeNull();
      expect((await project.docker(['exec', survivor, 'redis-cli', 'role'])).split('\n')[0]).toBe('master');
    }, 300_000);

    it('down -v leaves no container, network or volume of the project behind', async () => {
      await timed('down', () => project.destroy());
      expect(await project.leftovers()).toEqual([]);
    }, 300_000);
  },
);
