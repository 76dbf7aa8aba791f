import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJsonError } from '../server/json-error';

const RETRY_MS = 2000;
const HEARTBEAT_MS = 15_000;
// A client that reads slower than we write is cut off, not buffered without bound.
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface EventStreamHooks {
  /** The first client arrived: start producing events. */
  readonly active: () => void;
  /** The last client left: stop producing them. */
  readonly idle: () => void;
}

/**
 * Server-Sent Events to a bounded number of clients. Written on node:http directly: the protocol is a
 * content type and `event:`/`data:` lines, and a library would bring a framework's request objects.
 * While anyone watches, the latest event is replayed to each new client, so a reconnecting page draws at once.
 */
export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;
  private latest?: string;
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly maxClients: number,
    private readonly hooks: EventStreamHooks,
  ) {
    this.heartbeat = setInterval(() => this.writeAll(': keep-alive\n\n'), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  open(req: IncomingMessage, res: ServerResponse): void {
    if (this.closed) return sendJsonError(res, 503, 'the gateway is shutting down');
    if (this.clients.size >= this.maxClients) {
      return sendJsonError(
        res,
        503,
        `too many open architecture streams (limit ${this.maxClients}, GATEWAY_OBSERVE_MAX_CLIENTS)`,
        undefined,
        ['retry-after', '5'],
      );
    }
    res.writeHead(200, [
      'content-type',
      'text/event-stream; charset=utf-8',
      'cache-control',
      'no-store',
      // Tells a buffering proxy in front (nginx) to pass events through as they come.
      'x-accel-buffering',
      'no',
    ]);
    res.write(`retry: ${RETRY_MS}\n\n`);
    if (this.latest !== undefined) res.write(this.latest);
    this.clients.add(res);
    const gone = () => this.remove(res);
    res.once('close', gone);
    req.once('close', gone);
    if (this.clients.size === 1) this.hooks.active();
  }

  /** Sends one event to every client; `data` must be one line (JSON.stringify without indentation is). */
  send(event: string, data: string): void {
    this.latest = `id: ${this.nextId++}\nevent: ${event}\ndata: ${data}\n\n`;
    this.writeAll(this.latest);
  }

  /** Ends every stream (shutdown): open SSE responses would otherwise keep the server from closing. */
  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const res of [...this.clients]) res.end();
    this.clients.clear();
  }

  private writeAll(frame: string): void {
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy();
      else res.write(frame);
    }
  }

  private remove(res: ServerResponse): void {
    if (!this.clients.delete(res)) return;
    if (this.clients.size > 0 || this.closed) return;
    // Nobody watches: the next client must not be shown a picture from before the pause.
    this.latest = undefined;
    this.hooks.idle();
  }
}
