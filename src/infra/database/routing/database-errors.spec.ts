import { QueryFailedError } from 'typeorm';
import type { DbNode } from '../topology/db-node';
import {
  isConnectionError,
  isReadOnlyNode,
  isRecoveryConflict,
  PoolBusyError,
  PrimaryUnavailableError,
} from './database-errors';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });
const wrapped = (e: Error) => new QueryFailedError('SELECT 1', [], e);

describe('database error classification', () => {
  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['a connect timeout (pg)', new Error('Connection terminated due to connection timeout')],
    ['a query read timeout', wrapped(new Error('Query read timeout'))],
    ['a dropped connection', wrapped(new Error('Connection terminated unexpectedly'))],
    ['admin shutdown', wrapped(pgError('57P01', 'terminating connection due to administrator command'))],
    ['the database starting up', pgError('57P03', 'the database system is starting up')],
    ['a connection exception class', pgError('08006')],
  ])('treats %s as a node failure', (_, err) => {
    expect(isConnectionError(err)).toBe(true);
  });

  it.each([
    ['a unique violation', wrapped(pgError('23505', 'duplicate key'))],
    ['a syntax error', wrapped(pgError('42601', 'syntax error'))],
    [
      'a statement timeout (a slow query, not a dead node)',
      wrapped(pgError('57014', 'canceling statement due to statement timeout')),
    ],
    ['a wait for a free pooled connection (back-pressure)', new Error('timeout exceeded when trying to connect')],
    ['a PoolBusyError', new PoolBusyError({ name: 'primary' } as DbNode, 2000)],
    ['a non-error', 'boom'],
    ['null', null],
  ])('does not treat %s as a node failure', (_, err) => {
    expect(isConnectionError(err)).toBe(false);
  });

  it('recognises a hot-standby conflict, and only that kind of 40001', () => {
    expect(isRecoveryConflict(wrapped(pgError('40001', 'canceling statement due to conflict with recovery')))).toBe(
      true,
    );
    expect(isRecoveryConflict(wrapped(pgError('40001', 'could not serialize access')))).toBe(false);
  });

  it('recognises a write sent to a read-only node', () => {
    expect(isReadOnlyNode(wrapped(pgError('25006', 'cannot execute INSERT in a read-only transaction')))).toBe(true);
    expect(isReadOnlyNode(wrapped(pgError('23505')))).toBe(false);
  });

  it('answers 503 with Retry-After and a message that says the database is failing over', () => {
    const e = new PrimaryUnavailableError('no primary elected');
    expect(e.getStatus()).toBe(503);
    expect(e.retryAfterSeconds).toBe(2);
    expect(e.message).toMatch(/No database primary is reachable \(no primary elected\): the database is failing over/);
  });

  it('answers a busy pool with 503 and Retry-After, naming the node and the wait', () => {
    const e = new PoolBusyError({ name: 'replica-1' } as DbNode, 2000);
    expect(e.getStatus()).toBe(503);
    expect(e.retryAfterSeconds).toBe(1);
    expect(e.message).toBe(
      "This instance's connections to replica-1 are all busy (waited 2000 ms for one); try again shortly",
    );
  });
});
