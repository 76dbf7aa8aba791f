/** A keyset position in the newest-first listing: the (created_at, id) of the last item served. */
export interface ArticleCursor {
  readonly createdAt: Date;
  readonly id: string;
}

export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is invalid; pass the nextCursor of a previous page');
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// Opaque to clients so the ordering key can change without breaking their code.
export function encodeCursor({ createdAt, id }: ArticleCursor): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url');
}

export function decodeCursor(cursor: string): ArticleCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw new InvalidCursorError();
  const [iso, id] = parsed as unknown[];
  if (typeof iso !== 'string' || !ISO_MS.test(iso) || typeof id !== 'string' || !UUID.test(id))
    throw new InvalidCursorError();
  const createdAt = new Date(iso);
  // Rejects well-shaped impossible dates such as 2024-02-30, which Date would silently roll over.
  if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== iso) throw new InvalidCursorError();
  return { createdAt, id };
}
