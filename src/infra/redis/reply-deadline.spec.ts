import { RedisReplyTimeoutError, withinDeadline } from './reply-deadline';

describe('withinDeadline', () => {
  it('passes a timely result or error through', async () => {
    await expect(withinDeadline(Promise.resolve('OK'), 50)).resolves.toBe('OK');
    await expect(withinDeadline(Promise.reject(new Error('WRONGTYPE')), 50)).rejects.toThrow('WRONGTYPE');
  });

  it('rejects when the reply never comes, and a late failure is not left unhandled', async () => {
    let fail!: (e: Error) => void;
    const never = new Promise<string>((_, reject) => (fail = reject));
    await expect(withinDeadline(never, 20)).rejects.toBeInstanceOf(RedisReplyTimeoutError);
    fail(new Error('connection reset, much later'));
    await new Promise((r) => setImmediate(r));
  });
});
