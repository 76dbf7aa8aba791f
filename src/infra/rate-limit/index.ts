export { RateLimitModule } from './rate-limit.module';
export { StrictRateLimit } from './strict-rate-limit.decorator';
