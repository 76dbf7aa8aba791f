import type { FailureKind } from '../upstreams/upstream';
import type { FailurePhase } from './retry-policy';

export interface ClassifiedFailure {
  readonly phase: FailurePhase;
  /** Counts against the upstream (passive ejection); undefined when the upstream is not at fault. */
  readonly kind: FailureKind | undefined;
  readonly code: string;
}

// undici rejects a request it cannot send as is (e.g. a duplicate Host header): the client's fault.
const INVALID_REQUEST = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

/**
 * Classifies an undici error. `sent` is whether undici had started writing this request to a
 * connected socket (its onConnect fired): before that, nothing reached the upstream, whatever the error.
 */
export function classifyFailure(err: Error & { code?: string }, sent: boolean): ClassifiedFailure | 'invalid-request' {
  const code = err.code ?? err.name;
  if (INVALID_REQUEST.has(code)) return 'invalid-request';
  if (!sent) return { phase: 'connect', kind: code === 'UND_ERR_CONNECT_TIMEOUT' ? 'timeout' : 'connect', code };
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return { phase: 'sent', kind: 'timeout', code };
  return { phase: 'sent', kind: 'reset', code };
}
