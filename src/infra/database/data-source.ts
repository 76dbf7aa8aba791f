import { loadConfig } from '../../config';
import { createRoutingDataSource } from './routing/routing-data-source';
import { routingDataSourceOptions } from './typeorm-options';

/**
 * For the TypeORM CLI: `npm run migration:run`. The same routing driver as the app, so migrations reach
 * whichever node is the primary now (after a failover DB_PRIMARY may name a replica or a dead node).
 */
export default createRoutingDataSource(routingDataSourceOptions(loadConfig()));
