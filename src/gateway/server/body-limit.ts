import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';

export const BODY_TOO_LARGE = 'GW_BODY_TOO_LARGE';

/**
 * A chunked request body has no Content-Length to check up front: count it as it streams and fail the
 * upstream request once it passes the limit. (A declared Content-Length is checked before any upstream.)
 */
class BodyLimit extends Transform {
  private seen = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit)
      return done(Object.assign(new Error(`request body exceeds ${this.limit} bytes`), { code: BODY_TOO_LARGE }));
    done(null, chunk);
  }
}

export function limitedBody(req: IncomingMessage, limit: number): BodyLimit {
  const limited = new BodyLimit(limit);
  req.on('error', (err) => limited.destroy(err));
  return req.pipe(limited);
}
