export { loadConfig, ConfigError, type AppConfig, type RedisAddress, type RedisTarget } from './app-config';
export { ConfigModule, APP_CONFIG, InjectConfig } from './config.module';
export { type DbNodeConfig, dbNodeSchema } from './config.schema';
