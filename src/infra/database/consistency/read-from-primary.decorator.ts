import { type CallHandler, Injectable, type NestInterceptor, UseInterceptors } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { readFromPrimary } from './db-context';

@Injectable()
class PrimaryReadsInterceptor implements NestInterceptor {
  intercept(_context: unknown, next: CallHandler): Observable<unknown> {
    // Nest binds the handler to the async context next.handle() is called in, so this scopes the whole handler.
    return readFromPrimary(() => next.handle());
  }
}

/**
 * Every read of this route goes to the primary, and the session's position is recorded as after a write. For
 * the few reads that must not lag, like sign-in right after sign-up. Everything else should read replicas.
 */
export const ReadFromPrimary = (): MethodDecorator & ClassDecorator => UseInterceptors(PrimaryReadsInterceptor);
