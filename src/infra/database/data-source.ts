import { DataSource } from 'typeorm';
import { loadConfig } from '../../config';
import { typeOrmOptions } from './typeorm-options';

/** For the TypeORM CLI: `npm run migration:run` (the app builds its own DataSource through DatabaseModule). */
export default new DataSource(typeOrmOptions(loadConfig()));
