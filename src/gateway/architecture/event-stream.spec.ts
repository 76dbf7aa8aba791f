import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventStream } from './event-stream';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw client: status, everything received, and a way to hang up. */
function connect(
  url: string,
): Promise<{ status: number; text: () => string; close: () => void; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const req = request(url, { agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('error', () => undefined);
      const ended = new Promise<void>((done) => res.once('close', () => done()));
      resolve({ status: res.statusCode!, text: () => text, close: () => req.destroy(), ended });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('EventStream', () => {
  let server: Server;
  let url: string;
  let stream: EventStream;
  const hooks = { active: jest.fn(), idle: jest.fn() };

  beforeAll(async () => {
    stream = new EventStream(2, hooks);
    server = createServer((req, res) => stream.open(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    stream.close();
    await new Promise((r) => server.close(r));
  });

  it('replays the latest event, caps clients, and goes idle when the last one hangs up', async () => {
    stream.send('snapshot', '{"seq":1}');
    const first = await connect(url);
    expect(first.status).toBe(200);
    expect(hooks.active).toHaveBeenCalledTimes(1);
    const second = await connect(url);
    expect(stream.size).toBe(2);

    const refused = await connect(url);
    expect(refused.status).toBe(503);
    await refused.ended;
    expect(JSON.parse(refused.text())).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });

    stream.send('snapshot', '{"seq":2}');
    await sleep(50);
    expect(first.text()).toBe(
      'retry: 2000\n\nid: 1\nevent: snapshot\ndata: {"seq":1}\n\nid: 2\nevent: snapshot\ndata: {"seq":2}\n\n',
    );

    first.close();
    await sleep(50);
    expect(stream.size).toBe(1);
    expect(hooks.idle).not.toHaveBeenCalled();
    second.close();
    await sleep(50);
    expect(stream.size).toBe(0);
    expect(hooks.idle).toHaveBeenCalledTimes(1);

    // After a pause, nothing stale is replayed: the next client waits for a fresh event.
    const later = await connect(url);
    await sleep(50);
    expect(later.text()).toBe('retry: 2000\n\n');
    later.close();
    await sleep(50);
  });

  it('ends every stream on close, and refuses new ones afterwards', async () => {
    const client = await connect(url);
    expect(stream.size).toBe(1);
    stream.close();
    await client.ended;
    expect(stream.size).toBe(0);
    expect((await connect(url)).status).toBe(503);
  });
});
