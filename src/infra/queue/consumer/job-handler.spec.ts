import { getEventListeners } from 'node:events';
import { untilAborted } from './job-handler';

describe('untilAborted on the signal all of a consumer’s jobs share', () => {
  it('leaves no listener behind once the work settles, either way', async () => {
    const shutdown = new AbortController();
    for (let i = 0; i < 50; i++) await untilAborted(Promise.resolve(i), shutdown.signal);
    for (let i = 0; i < 50; i++)
      await expect(untilAborted(Promise.reject(new Error('boom')), shutdown.signal)).rejects.toThrow('boom');
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
  });

  it('rejects every job still running when the signal aborts, with its reason', async () => {
    const shutdown = new AbortController();
    const never = new Promise<never>(() => undefined);
    const running = [untilAborted(never, shutdown.signal), untilAborted(never, shutdown.signal)];
    shutdown.abort('worker shutting down');
    await expect(Promise.all(running.map((p) => p.catch((reason: unknown) => reason)))).resolves.toEqual([
      'worker shutting down',
      'worker shutting down',
    ]);
    await expect(untilAborted(Promise.resolve(1), shutdown.signal)).rejects.toBe('worker shutting down');
  });
});
