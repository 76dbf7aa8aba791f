export { DatabaseModule } from './database.module';
export { isUniqueViolation } from './postgres-errors';
export { ReadFromPrimary } from './consistency/read-from-primary.decorator';
export { readFromPrimary, runWithMinLsn } from './consistency/db-context';
export { currentPrimaryLsn } from './consistency/current-primary-lsn';
export {
  registerDatabaseRequestContext,
  DB_NODE_HEADER,
  type DatabaseRequestContextOptions,
} from './consistency/database-request-context';
export { PrimaryUnavailableError, DatabaseUnavailableError } from './routing/database-errors';
export { InvalidLsnError } from './topology/lsn';
