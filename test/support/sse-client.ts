import { request, type IncomingHttpHeaders } from 'node:http';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** A Server-Sent Events stream read the way a browser's EventSource reads it (eventsource-parser). */
export interface SseStream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Every event so far, in order. */
  readonly events: EventSourceMessage[];
  /** The `retry:` the server asked for, once seen. */
  readonly retryMs: () => number | undefined;
  /** The body of a non-200 answer. */
  readonly body: () => string;
  /** The next event named `event` after the ones already seen (or already counted by `after`). */
  next(event: string, timeoutMs?: number, after?: number): Promise<EventSourceMessage>;
  /** Drops the connection, like a closed browser tab. */
  close(): void;
  readonly closed: Promise<void>;
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const events: EventSourceMessage[] = [];
    let retry: number | undefined;
    let body = '';
    const parser = createParser({ onEvent: (e) => void events.push(e), onRetry: (ms) => (retry = ms) });
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      res.setEncoding('utf8');
      const closed = new Promise<void>((done) => res.once('close', () => done()));
      res.on('data', (chunk: string) => (res.statusCode === 200 ? parser.feed(chunk) : (body += chunk)));
      res.on('error', () => undefined);
      resolve({
        status: res.statusCode!,
        headers: res.headers,
        events,
        retryMs: () => retry,
        body: () => body,
        closed,
        close: () => req.destroy(),
        async next(event, timeoutMs = 5000, after) {
          const deadline = Date.now() + timeoutMs;
          const from = after ?? events.length;
          for (;;) {
            const found = events.slice(from).find((e) => e.event === event);
            if (found) return found;
            if (Date.now() > deadline)
              throw new Error(`no "${event}" event within ${timeoutMs} ms (${events.length} events so far)`);
            await new Promise((r) => setTimeout(r, 20));
          }
        },
      });
    });
    req.on('error', reject);
    req.end();
  });
}
