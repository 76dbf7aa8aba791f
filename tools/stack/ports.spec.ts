import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess } from './managed-process';
import { waitForHttp } from './node-programs';
import { canBind, freePort, freePortRange } from './ports';
import type * as Ports from './ports';

describe('waitForHttp', () => {
  let dir: string;
  let server: Server | undefined;
  let proc: ManagedProcess | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'z2m-wait-http-'));
  });
  afterEach(async () => {
    await proc?.stop('SIGKILL', 1000);
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** A stranger on the port, as a Patroni REST API is: 200 to any path with "health" in it, and no x-served-by. */
  const stranger = async (servedBy?: string) => {
    const port = await freePort();
    server = createServer((_req, res) => {
      if (servedBy) res.setHeader('x-served-by', servedBy);
      res.end('{"state":"running"}');
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    proc = new ManagedProcess({
      name: 'api-2',
      command: process.execPath,
      args: ['-e', 'setTimeout(() => {}, 10_000)'],
      logFile: join(dir, 'api-2.log'),
    });
    proc.start();
    return `http://127.0.0.1:${port}/health/live`;
  };

  it('does not take another server on the port for the program it waits for', async () => {
    const url = await stranger();
    await expect(waitForHttp(url, proc!, { servedBy: 'api-2', timeoutMs: 800 })).rejects.toThrow(
      /api-2 did not answer .* within 800 ms \(.* is answered by a process that is not ours\)/,
    );
  });

  it('accepts the answer stamped with the expected x-served-by, and any 2xx when none is expected', async () => {
    const url = await stranger('api-2');
    await expect(waitForHttp(url, proc!, { servedBy: 'api-2', timeoutMs: 2000 })).resolves.toBeUndefined();
    await expect(waitForHttp(url, proc!, { timeoutMs: 2000 })).resolves.toBeUndefined();
    await expect(waitForHttp(url, proc!, { servedBy: 'api-1', timeoutMs: 500 })).rejects.toThrow(
      /is answered by "api-2"/,
    );
  });
});

describe('port picking', () => {
  it('hands out a consecutive range as a whole: no later pick lands inside it', async () => {
    const first = await freePortRange(4);
    const taken = [first, first + 1, first + 2, first + 3];
    for (let i = 0; i < 300; i++) expect(taken).not.toContain(await freePort());
  });

  it('never hands out a reserved port: with all but three reserved, it picks those three, then fails', async () => {
    // A fresh copy of the module: nothing handed out yet by the tests above.
    let ports!: typeof Ports;
    jest.isolateModules(() => (ports = jest.requireActual('./ports')));
    const { min, max } = ports.PORT_RANGE;
    const all = Array.from({ length: max - min }, (_, i) => min + i);
    const left = [min + 17, min + Math.floor((max - min) / 2), max - 1];
    ports.reservePorts(all.filter((p) => !left.includes(p)));
    const picked: number[] = [];
    for (;;) {
      const port = await ports.freePort().catch(() => null);
      if (port === null) break;
      picked.push(port);
    }
    // A left-over port that something else on this machine holds right now is skipped, never handed out.
    const bindable: number[] = [];
    for (const p of left) if (await canBind(p)) bindable.push(p);
    expect(bindable.length).toBeGreaterThan(0);
    expect(picked.sort((a, b) => a - b)).toEqual(bindable);
  });
});
