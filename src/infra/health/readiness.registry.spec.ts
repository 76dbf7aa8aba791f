import type { HealthIndicatorResult } from '@nestjs/terminus';
import { ReadinessRegistry } from './readiness.registry';

describe('ReadinessRegistry', () => {
  const run = (registry: ReadinessRegistry) => Promise.all(registry.all().map((check) => check()));
  const result = (key: string, status: string, extra: Record<string, unknown> = {}) =>
    ({ [key]: { status, ...extra } }) as HealthIndicatorResult;

  it('reports a shared dependency that is down as degraded, with what still works', async () => {
    const registry = new ReadinessRegistry();
    registry.register('primary', async () => result('primary', 'down', { message: 'refused' }), {
      whenDown: 'read-only',
    });
    registry.register('redis', () => Promise.reject(new Error('socket closed')), { whenDown: 'no sessions' });
    expect(await run(registry)).toEqual([
      { primary: { status: 'degraded', message: 'refused', impact: 'read-only' } },
      { redis: { status: 'degraded', message: 'socket closed', impact: 'no sessions' } },
    ]);
  });

  it("keeps the instance's own checks able to fail readiness, and leaves up and degraded results alone", async () => {
    const registry = new ReadinessRegistry();
    registry.register('eventLoop', async () => result('eventLoop', 'down'));
    registry.register('primary', async () => result('primary', 'up'), { whenDown: 'read-only' });
    registry.register('db:replica-1', async () => result('db:replica-1', 'degraded'), { whenDown: 'x' });
    expect(await run(registry)).toEqual([
      { eventLoop: { status: 'down' } },
      { primary: { status: 'up' } },
      { 'db:replica-1': { status: 'degraded' } },
    ]);
  });

  it('refuses a key registered twice', () => {
    const registry = new ReadinessRegistry();
    registry.register('redis', async () => result('redis', 'up'));
    expect(() => registry.register('redis', async () => result('redis', 'up'))).toThrow(/twice/);
  });
});
