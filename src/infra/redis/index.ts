export { RedisModule, REDIS_CLIENT, InjectRedis } from './redis.module';
export { createRedisClient, type RedisClient } from './redis.client';
