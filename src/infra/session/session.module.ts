import { Module } from '@nestjs/common';
import { SessionAuthGuard } from './session-auth.guard';
import { SessionManager } from './session-manager';

@Module({ providers: [SessionManager, SessionAuthGuard], exports: [SessionManager, SessionAuthGuard] })
export class SessionModule {}
