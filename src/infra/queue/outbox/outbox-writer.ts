import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { OUTBOX_WRITTEN, type OutboxMessage } from './outbox-message';

/**
 * The producer side of the transactional outbox: the job is a row written in the same transaction as the
 * business change, so both commit or neither does, and a Redis outage cannot fail or lose the write.
 */
@Injectable()
export class OutboxWriter {
  /** Returns the id the job will have in BullMQ (the row's UUID). */
  async enqueue(em: EntityManager, message: OutboxMessage): Promise<string> {
    const runner = em.queryRunner;
    if (!runner?.isTransactionActive)
      throw new Error('OutboxWriter.enqueue must run inside the transaction of the change it belongs to');
    const [row] = await em.query<Array<{ id: string }>>(
      `INSERT INTO outbox (queue, job_name, payload) VALUES ($1, $2, $3) RETURNING id`,
      [message.queue, message.name, message.data],
    );
    runner.data[OUTBOX_WRITTEN] = true;
    return row!.id;
  }
}
