import { createServer, type Server, type Socket } from 'node:net';
import { DbNode, PoolWaitTimeout } from './db-node';

/** Just enough of the PostgreSQL protocol: trust auth, then a FATAL error pushed at a client that runs nothing. */
function fakePostgres(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.once('data', () => {
      const auth = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]); // AuthenticationOk
      const ready = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]); // ReadyForQuery (idle)
      socket.write(Buffer.concat([auth, ready]));
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as { port: number }).port, sockets }),
    ),
  );
}

function fatal(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0C${code}\0M${message}\0\0`, 'utf8');
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

describe('DbNode', () => {
  it('survives a server that dies under a checked-out connection with no statement running', async () => {
    const pg = await fakePostgres();
    const node = new DbNode(
      { name: 'primary', url: `postgres://app@127.0.0.1:${pg.port}/app` },
      {
        poolSize: 2,
        connectTimeoutMs: 1000,
        queryTimeoutMs: 1000,
        applicationName: 'spec',
      },
    );
    try {
      const client = await node.pool.connect();
      // pg-pool removed its idle listener at checkout: the one left is DbNode's.
      expect(client.listenerCount('error')).toBe(1);
      const errored = new Promise<void>((resolve) => client.once('end', () => resolve()));
      // Without a listener of DbNode's own, this emit would throw out of the socket's data handler.
      pg.sockets[0]!.end(fatal('57P01', 'terminating connection due to unexpected postmaster exit'));
      await errored;
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release(new Error('dead'));
    } finally {
      await node.close(500);
      pg.server.close();
    }
  });

  it('tells a wait for a free pooled connection (back-pressure) from a failed connect (the node)', async () => {
    const pg = await fakePostgres();
    const settings = { poolSize: 1, connectTimeoutMs: 100, queryTimeoutMs: 1000, applicationName: 'spec' };
    const node = new DbNode({ name: 'primary', url: `postgres://app@127.0.0.1:${pg.port}/app` }, settings);
    // A port nothing listens on: pg-pool rejects with the socket's error, a node failure.
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const dead = new DbNode({ name: 'replica-1', url: `postgres://app@127.0.0.1:${closed}/app` }, settings);
    try {
      const held = await node.connect();
      const waited = await node.connect().catch((err: unknown) => err);
      expect(waited).toBeInstanceOf(PoolWaitTimeout);
      expect((waited as PoolWaitTimeout).waitedMs).toBeGreaterThanOrEqual(90);
      held.release();
      // The slot is free again: the next request gets it at once.
      (await node.connect()).release();
      const refused = await dead.connect().catch((err: unknown) => err);
      expect(refused).not.toBeInstanceOf(PoolWaitTimeout);
      expect((refused as { code?: string }).code).toBe('ECONNREFUSED');
    } finally {
      await Promise.all([node.close(500), dead.close(500)]);
      pg.server.close();
    }
  });
});
