import { Injectable } from '@nestjs/common';
import { type AppConfig, InjectConfig } from '../../config';
import { InjectRedis, type RedisClient } from '../redis';
import { SESSION_KEY_PREFIX, unavailable } from './session-store';

/**
 * Which sessions each user has, as a Redis set next to the sessions themselves, so "log out everywhere"
 * and a password change can end them all from any instance. Ids of sessions that expired on their own
 * linger in the set until it expires; deleting a missing key is harmless.
 */
@Injectable()
export class SessionRegistry {
  constructor(
    @InjectRedis() private readonly redis: RedisClient,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async track(userId: string, sessionId: string): Promise<void> {
    const key = this.key(userId);
    await this.run(() => this.redis.multi().sAdd(key, sessionId).expire(key, this.config.session.ttlSeconds).exec());
  }

  async untrack(userId: string, sessionId: string): Promise<void> {
    await this.run(() => this.redis.sRem(this.key(userId), sessionId));
  }

  /** Ends every session of the user; returns how many were tracked. */
  async destroyAll(userId: string): Promise<number> {
    const key = this.key(userId);
    return this.run(async () => {
      const ids = await this.redis.sMembers(key);
      await this.redis.del([key, ...ids.map((id) => SESSION_KEY_PREFIX + id)]);
      return ids.length;
    });
  }

  private key(userId: string): string {
    return `user-sessions:${userId}`;
  }

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw unavailable(err);
    }
  }
}
