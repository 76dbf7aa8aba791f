export { DatabaseModule } from './database.module';
export { isUniqueViolation } from './postgres-errors';
