export { LoggerModule, REDACTED_PATHS } from './logger.module';
