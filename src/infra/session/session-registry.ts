import { Injectable } from '@nestjs/common';
import { type AppConfig, InjectConfig } from '../../config';
import { execOrThrow, type RedisClient, RedisConnections, withinDeadline } from '../redis';
import { SESSION_KEY_PREFIX, unavailable } from './session-store';

/**
 * Which sessions each user has, as a Redis set next to the sessions themselves, so "log out everywhere"
 * and a password change can end them all from any instance. Ids of sessions that expired on their own
 * linger in the set until it expires; deleting a missing key is harmless.
 */
@Injectable()
export class SessionRegistry {
  private readonly redis: RedisClient;

  constructor(
    connections: RedisConnections,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    this.redis = connections.client('sessions');
  }

  async track(userId: string, sessionId: string): Promise<void> {
    const key = this.key(userId);
    await this.run(() =>
      execOrThrow(this.redis.multi().sadd(key, sessionId).expire(key, this.config.session.ttlSeconds)),
    );
  }

  async untrack(userId: string, sessionId: string): Promise<void> {
    await this.run(() => this.redis.srem(this.key(userId), sessionId));
  }

  /** Ends every session of the user; returns how many were tracked. */
  async destroyAll(userId: string): Promise<number> {
    const key = this.key(userId);
    return this.run(async () => {
      const ids = await this.redis.smembers(key);
      await this.redis.del(key, ...ids.map((id) => SESSION_KEY_PREFIX + id));
      return ids.length;
    });
  }

  private key(userId: string): string {
    return `user-sessions:${userId}`;
  }

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await withinDeadline(fn(), this.config.redis.commandTimeoutMs);
    } catch (err) {
      throw unavailable(err);
    }
  }
}
