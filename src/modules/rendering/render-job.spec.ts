import { parseRenderJob, renderJob } from './render-job';

describe('render job payload', () => {
  const articleId = '4f0e3c52-8a55-4a3b-9d55-0c3c0f0d3b7e';

  it('targets the render queue and carries the causing request id', () => {
    expect(renderJob({ articleId, revision: 2, requestId: 'req-1' })).toEqual({
      queue: 'render',
      name: 'render',
      data: { articleId, revision: 2, requestId: 'req-1' },
    });
  });

  it('accepts what renderJob writes, and an optional minLsn', () => {
    expect(parseRenderJob({ articleId, revision: 1 })).toEqual({ articleId, revision: 1 });
    expect(parseRenderJob({ articleId, revision: 1, minLsn: '0/3000060' }).minLsn).toBe('0/3000060');
  });

  it.each([
    ['no payload', undefined, /payload/],
    ['a bad article id', { articleId: 'x', revision: 1 }, /articleId/],
    ['a missing revision', { articleId }, /revision/],
    ['a zero revision', { articleId, revision: 0 }, /revision/],
    ['a fractional revision', { articleId, revision: 1.5 }, /revision/],
    ['a malformed WAL position', { articleId, revision: 1, minLsn: "0/1'; --" }, /minLsn: must be a WAL position/],
  ])('rejects %s, naming the field', (_, data, message) => {
    expect(() => parseRenderJob(data)).toThrow(message);
  });
});
