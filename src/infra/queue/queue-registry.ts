import { Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { isQueueName, QUEUE_NAMES, type QueueName } from './queue-names';

/** The BullMQ Queue object of every queue name, for code that gets the name at run time (relay, lookups, metrics). */
export class QueueRegistry {
  private readonly byName: ReadonlyMap<QueueName, Queue>;

  constructor(queues: readonly Queue[]) {
    this.byName = new Map(queues.map((q) => [q.name as QueueName, q]));
    for (const name of QUEUE_NAMES) if (!this.byName.has(name)) throw new Error(`queue "${name}" is not registered`);
    for (const queue of queues) watchConnection(queue);
  }

  get(name: string): Queue | undefined {
    return isQueueName(name) ? this.byName.get(name) : undefined;
  }

  all(): Queue[] {
    return [...this.byName.values()];
  }

  /** One cheap round trip per queue through its own fail-fast connection: is the queues' Redis usable? */
  async ping(): Promise<void> {
    await Promise.all(this.all().map((q) => q.getWaitingCount()));
  }
}

/** An 'error' event without a listener would crash the process on the first Redis hiccup; log each distinct one once. */
function watchConnection(queue: Queue): void {
  const logger = new Logger(`Queue:${queue.name}`);
  let last = '';
  queue.on('error', (err: Error) => {
    if (err.message === last) return;
    last = err.message;
    logger.warn(`queue connection: ${err.message} (callers fail fast until it reconnects)`);
  });
}
