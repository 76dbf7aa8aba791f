import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntitySubscriberInterface, TransactionCommitEvent } from 'typeorm';
import { OUTBOX_WRITTEN } from './outbox-message';
import { OutboxRelay } from './outbox-relay';

/** Wakes this instance's relay right after a transaction that wrote to the outbox commits: latency without tight polling. */
@Injectable()
export class OutboxCommitListener implements EntitySubscriberInterface {
  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly relay: OutboxRelay,
  ) {
    dataSource.subscribers.push(this);
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    if (!event.queryRunner.data[OUTBOX_WRITTEN]) return;
    delete event.queryRunner.data[OUTBOX_WRITTEN];
    this.relay.wake();
  }
}
