import { Controller, type ExecutionContext, Get } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { SkipThrottle, Throttle, ThrottlerException, type ThrottlerStorage } from '@nestjs/throttler';
import { OperationalEndpoint } from '../observability';
import { bucketKey } from './rate-limit.module';
import { RateLimitGuard } from './rate-limit.guard';

@Controller()
class Routes {
  @Get() plain(): void {}
  @Get() @SkipThrottle({ default: true }) unlimited(): void {}
  @Get() @OperationalEndpoint() probe(): void {}
  @Get() @Throttle({ default: { limit: 1, ttl: 1000 } }) tight(): void {}
  @Get() @Throttle({ default: { limit: () => 1, ttl: 1000 } }) computed(): void {}
}

/** A storage that counts in memory, recording what it was asked. */
function memoryStorage() {
  const hits = new Map<string, number>();
  const calls: string[] = [];
  const storage: ThrottlerStorage = {
    increment: async (key, ttl, limit, _block, name) => {
      calls.push(`${name} ${key}`);
      const totalHits = (hits.get(key) ?? 0) + 1;
      hits.set(key, totalHits);
      return { totalHits, timeToExpire: ttl / 1000, isBlocked: totalHits > limit, timeToBlockExpire: 7 };
    },
  };
  return { storage, calls };
}

function contextOf(handler: keyof Routes, strict = false) {
  const headers: Record<string, string> = {};
  const reply = { header: (name: string, value: unknown) => void (headers[name.toLowerCase()] = String(value)) };
  const context = {
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => ({ ip: '10.0.0.1', headers: {}, strict }), getResponse: () => reply }),
  } as unknown as ExecutionContext;
  return { context, headers };
}

describe('RateLimitGuard', () => {
  const guardWith = (storage: ThrottlerStorage) => {
    const guard = new RateLimitGuard(
      {
        generateKey: bucketKey,
        throttlers: [
          { name: 'default', ttl: 60_000, limit: 3 },
          {
            name: 'auth-ip',
            ttl: 60_000,
            limit: 1,
            skipIf: (ctx) => !ctx.switchToHttp().getRequest<{ strict: boolean }>().strict,
          },
        ],
      },
      storage,
    );
    return guard.onModuleInit().then(() => guard);
  };

  it('counts each request against the limits that apply, sets the headers, and answers 429 past a limit', async () => {
    const { storage, calls } = memoryStorage();
    const guard = await guardWith(storage);
    for (let i = 0; i < 3; i++) expect(await guard.canActivate(contextOf('plain').context)).toBe(true);
    const { context, headers } = contextOf('plain');
    await expect(guard.canActivate(context)).rejects.toBeInstanceOf(ThrottlerException);
    expect(headers['retry-after']).toBe('7');
    expect(calls).toEqual(Array.from({ length: 4 }, () => 'default default:10.0.0.1'));
    const ok = contextOf('unlimited');
    expect(await guard.canActivate(ok.context)).toBe(true);
  });

  it("gives a named limit's 429 the standard Retry-After (the library sets only Retry-After-<name>)", async () => {
    const guard = await guardWith(memoryStorage().storage);
    expect(await guard.canActivate(contextOf('plain', true).context)).toBe(true);
    const { context, headers } = contextOf('plain', true);
    await expect(guard.canActivate(context)).rejects.toBeInstanceOf(ThrottlerException);
    expect(headers['retry-after-auth-ip']).toBe('7');
    expect(headers['retry-after']).toBe('7');
  });

  it('sets the X-RateLimit headers on an allowed request', async () => {
    const guard = await guardWith(memoryStorage().storage);
    const { context, headers } = contextOf('plain');
    await guard.canActivate(context);
    expect(headers).toEqual({ 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '2', 'x-ratelimit-reset': '60' });
  });

  it('asks skipIf on every request, while reading the route once', async () => {
    const { storage, calls } = memoryStorage();
    const guard = await guardWith(storage);
    const lookups = jest.spyOn((guard as unknown as { reflector: Reflector }).reflector, 'getAllAndOverride');
    await guard.canActivate(contextOf('plain', false).context);
    const firstRequest = lookups.mock.calls.length;
    expect(firstRequest).toBeGreaterThan(0);
    await guard.canActivate(contextOf('plain', true).context);
    expect(lookups.mock.calls).toHaveLength(firstRequest);
    expect(calls).toEqual(['default default:10.0.0.1', 'default default:10.0.0.1', 'auth-ip auth-ip:10.0.0.1']);
  });

  it('honours route metadata: @SkipThrottle, @Throttle, operational endpoints', async () => {
    const { storage, calls } = memoryStorage();
    const guard = await guardWith(storage);
    expect(await guard.canActivate(contextOf('unlimited').context)).toBe(true);
    expect(await guard.canActivate(contextOf('probe').context)).toBe(true);
    expect(calls).toEqual([]);
    expect(await guard.canActivate(contextOf('tight').context)).toBe(true);
    await expect(guard.canActivate(contextOf('tight').context)).rejects.toBeInstanceOf(ThrottlerException);
  });

  it('takes the library path for a limit computed per request', async () => {
    const guard = await guardWith(memoryStorage().storage);
    expect(await guard.canActivate(contextOf('computed').context)).toBe(true);
    await expect(guard.canActivate(contextOf('computed').context)).rejects.toBeInstanceOf(ThrottlerException);
  });
});

describe('bucketKey', () => {
  it('keeps a client IP readable, and never keeps an email address', () => {
    expect(bucketKey(undefined, '10.0.0.1', 'default')).toBe('default:10.0.0.1');
    const account = bucketKey(undefined, 'account:ada@example.com', 'auth-account');
    expect(account).toMatch(/^auth-account:[0-9a-f]{64}$/);
    expect(account).not.toContain('example.com');
  });
});
