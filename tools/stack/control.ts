import { existsSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';

export interface ControlRequest {
  readonly command: string;
  readonly args: readonly string[];
}

export type ControlHandler = (req: ControlRequest) => Promise<string>;

/**
 * The running stack listens on a unix socket in .stack/, so `npm run stack -- <command>` in another
 * terminal acts on the processes the foreground runner owns. Only local users with access to the
 * repository directory can reach it.
 */
export function serveControl(socketPath: string, handle: ControlHandler): Promise<Server> {
  if (existsSync(socketPath)) rmSync(socketPath);
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      let parsed: ControlRequest;
      try {
        parsed = JSON.parse(body) as ControlRequest;
      } catch {
        res.writeHead(400).end('bad request');
        return;
      }
      handle(parsed).then(
        (output) => res.writeHead(200, { 'content-type': 'text/plain' }).end(output),
        (err: Error) => res.writeHead(422, { 'content-type': 'text/plain' }).end(err.message),
      );
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve(server));
  });
}

/** Sends one command to the running stack and returns its output. */
export function sendControl(socketPath: string, req: ControlRequest): Promise<{ ok: boolean; output: string }> {
  if (!existsSync(socketPath)) {
    return Promise.reject(new Error('no stack is running here (start one with `npm run stack`)'));
  }
  return new Promise((resolve, reject) => {
    const r = request({ socketPath, method: 'POST', path: '/' }, (res) => {
      let out = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (out += c));
      res.on('end', () => resolve({ ok: res.statusCode === 200, output: out }));
    });
    r.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ECONNREFUSED' ? new Error('the stack is not running (stale control socket)') : err),
    );
    r.end(JSON.stringify(req));
  });
}
