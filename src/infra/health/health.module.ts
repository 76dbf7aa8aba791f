import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CoreReadiness } from './core-readiness';
import { DrainState } from './drain-state';
import { EventLoopReadiness } from './event-loop-readiness';
import { HealthController } from './health.controller';
import { ReadinessRegistry } from './readiness.registry';

@Global()
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json', logger: false })],
  controllers: [HealthController],
  providers: [ReadinessRegistry, DrainState, CoreReadiness, EventLoopReadiness],
  exports: [ReadinessRegistry, DrainState, TerminusModule],
})
export class HealthModule {}
