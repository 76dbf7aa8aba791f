import { createServer } from 'node:net';

// Below Linux's ephemeral range (32768-60999): a port the OS handed out for listen(0) may be taken
// by an outgoing connection's local end before the server we start binds it.
const PRIVATE_PORTS = { min: 20_000, max: 32_000 };

const handedOut = new Set<number>();

/** A TCP port free on 127.0.0.1 right now, picked at random outside the ephemeral range, never twice per process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PRIVATE_PORTS.min + Math.floor(Math.random() * (PRIVATE_PORTS.max - PRIVATE_PORTS.min));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port in ${PRIVATE_PORTS.min}-${PRIVATE_PORTS.max}`);
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
