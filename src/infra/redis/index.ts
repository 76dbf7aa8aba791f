export { RedisModule, REDIS_CLIENT, InjectRedis } from './redis.module';
export { RedisConnection } from './redis-connection';
export { createRedisClient, type RedisClient } from './redis.client';
export { withinDeadline, RedisReplyTimeoutError } from './reply-deadline';
export { CircuitBreaker } from './circuit-breaker';
