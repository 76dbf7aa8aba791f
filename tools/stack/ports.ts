import { createServer } from 'node:net';

// Below Linux's ephemeral range (32768-60999): a port the OS handed out for listen(0) may be taken
// by an outgoing connection's local end before the server we start binds it.
const PRIVATE_PORTS = { min: 20_000, max: 32_000 };

/**
 * A free port is only free until someone binds it, and the picker is not the binder: a test picks the ports of
 * the stack it then starts, and that stack's CLI (another process) picks Patroni's, etcd's and Sentinel's. Two
 * rules keep one owner per port. Within a process, a port is handed out once (`reservePorts` adds the ones given
 * on a command line). Across the suites Jest runs at once, each worker picks in its own slice of the range; its
 * children (a stack CLI) inherit JEST_WORKER_ID and so pick in the same slice.
 */
const JEST_SLICES = 6;
/** Where this process picks ports: the private range, or this Jest worker's slice of it. */
export const PORT_RANGE: { readonly min: number; readonly max: number } = (() => {
  const worker = Number(process.env.JEST_WORKER_ID);
  if (!Number.isInteger(worker) || worker < 1) return PRIVATE_PORTS;
  const size = Math.floor((PRIVATE_PORTS.max - PRIVATE_PORTS.min) / JEST_SLICES);
  const min = PRIVATE_PORTS.min + ((worker - 1) % JEST_SLICES) * size;
  return { min, max: min + size };
})();

const handedOut = new Set<number>();

/** Ports this process must not hand out: already promised to a program that has not bound them yet. */
export function reservePorts(ports: Iterable<number>): void {
  for (const port of ports) handedOut.add(port);
}

/**
 * A TCP port free on 127.0.0.1 right now, outside the ephemeral range, never twice per process: the first free
 * one from a random place in the range on, so it fails only when the whole range is taken.
 */
export async function freePort(): Promise<number> {
  const size = PORT_RANGE.max - PORT_RANGE.min;
  const start = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = PORT_RANGE.min + ((start + i) % size);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port in ${PORT_RANGE.min}-${PORT_RANGE.max}`);
}

/** The first of `count` consecutive free ports (`--pg-port P` puts replicas on P+1, ...), all handed out here. */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const first = await freePort();
    const rest = Array.from({ length: count - 1 }, (_, i) => first + 1 + i);
    if (rest.some((p) => p >= PORT_RANGE.max || handedOut.has(p))) continue;
    if (!(await Promise.all(rest.map(canBind))).every(Boolean)) continue;
    reservePorts(rest);
    return first;
  }
  throw new Error(`no ${count} consecutive free ports in ${PORT_RANGE.min}-${PORT_RANGE.max}`);
}

/** True if a listener could bind 127.0.0.1:port now. */
export function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Resolves once something accepts TCP connections on the port, or rejects at the deadline. */
export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
