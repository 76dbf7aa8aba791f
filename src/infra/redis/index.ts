export { RedisModule } from './redis.module';
export { RedisConnections, type RedisPurpose, type BullmqConnectionKind } from './redis-connections';
export { defineScript, type RedisScript } from './redis-script';
export { redisErrorCode } from './redis-options';
export { withinDeadline, RedisReplyTimeoutError } from './reply-deadline';
export { CircuitBreaker } from './circuit-breaker';
export type { Redis as RedisClient } from 'ioredis';
export { execOrThrow } from './redis-transaction';
export type { ClientOptions } from './redis-options';
