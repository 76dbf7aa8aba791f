export { SessionModule } from './session.module';
export { SessionManager } from './session-manager';
export { SessionAuthGuard } from './session-auth.guard';
export { Authenticated, CurrentUser, type SessionUser } from './current-user.decorator';
export { registerSessions } from './register-sessions';
