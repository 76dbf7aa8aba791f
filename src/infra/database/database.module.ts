import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Registry } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../../config';
import { METRICS_REGISTRY } from '../observability';
import { DatabaseReadiness } from './database-readiness';
import { createRoutingDataSource, type RoutingDataSourceOptions } from './routing/routing-data-source';
import { routingDataSourceOptions } from './typeorm-options';

/**
 * The TypeORM DataSource every feature module injects, on a topology-aware driver: reads to replicas, writes and
 * transactions to the current primary. Repositories, @InjectDataSource() and transaction() work unchanged.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG, { token: METRICS_REGISTRY, optional: true }],
      useFactory: (config: AppConfig, metrics?: Registry) => ({
        ...routingDataSourceOptions(config, metrics),
        autoLoadEntities: true,
      }),
      dataSourceFactory: async (options) => createRoutingDataSource(options as RoutingDataSourceOptions),
    }),
  ],
  providers: [DatabaseReadiness],
})
export class DatabaseModule {}
