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

  it('accepts a reply that arrived while the loop was too busy to read it before the deadline timer ran', async () => {
    const reply = new Promise<string>((resolve) => setTimeout(() => resolve('OK'), 30));
    const bounded = withinDeadline(reply, 20);
    // Our own work holds the loop past both times: the deadline timer runs first, the reply is already there.
    const until = Date.now() + 60;
    while (Date.now() < until) {
      // busy
    }
    await expect(bounded).resolves.toBe('OK');
  });
});
