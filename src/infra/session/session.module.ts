import { Module } from '@nestjs/common';
import { SessionAuthGuard } from './session-auth.guard';
import { SessionManager } from './session-manager';
import { SessionRegistry } from './session-registry';

@Module({ providers: [SessionManager, SessionRegistry, SessionAuthGuard], exports: [SessionManager, SessionAuthGuard] })
export class SessionModule {}
