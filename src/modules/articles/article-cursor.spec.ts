import { decodeCursor, encodeCursor, InvalidCursorError } from './article-cursor';

const id = '3f2b8c1e-6a4d-4e9b-9c7a-1d2e3f4a5b6c';

describe('article cursor', () => {
  it('round-trips a position with millisecond precision', () => {
    const createdAt = new Date('2026-11-25T10:20:30.456Z');
    const decoded = decodeCursor(encodeCursor({ createdAt, id }));
    expect(decoded.id).toBe(id);
    expect(decoded.createdAt.getTime()).toBe(createdAt.getTime());
  });

  it('is URL-safe', () => {
    expect(encodeCursor({ createdAt: new Date(), id })).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  it.each([
    ['not base64 json', '!!!'],
    ['empty', ''],
    ['an object', enc({ createdAt: '2026-01-01T00:00:00.000Z', id })],
    ['too few parts', enc(['2026-01-01T00:00:00.000Z'])],
    ['a bad uuid', enc(['2026-01-01T00:00:00.000Z', "1' OR '1'='1"])],
    ['a non-ISO date', enc(['yesterday', id])],
    ['an impossible date', enc(['2026-02-30T00:00:00.000Z', id])],
    ['numbers', enc([1, 2])],
    ['null', enc(null)],
  ])('rejects %s', (_, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(InvalidCursorError);
  });
});
