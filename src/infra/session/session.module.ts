import { Module } from '@nestjs/common';
import { SessionAuthGuard } from './session-auth.guard';
import { SessionManager } from './session-manager';
import { SessionRegistry } from './session-registry';
import { Sessions } from './sessions';

@Module({
  providers: [Sessions, SessionManager, SessionRegistry, SessionAuthGuard],
  exports: [Sessions, SessionManager, SessionAuthGuard],
})
export class SessionModule {}
