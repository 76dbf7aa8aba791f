import { Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job, JobState, Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { QueueRegistry } from '../queue-registry';

export type LocatedJob =
  | { readonly where: 'queue'; readonly queue: Queue; readonly job: Job; readonly state: JobState }
  | {
      readonly where: 'outbox';
      readonly id: string;
      readonly queue: string;
      readonly name: string;
      readonly createdAt: Date;
      readonly attempts: number;
      readonly lastError: string | null;
      /** Set once the row was dead-lettered (refused OUTBOX_MAX_ATTEMPTS times): it is relayed no more. */
      readonly deadAt: Date | null;
    };

/** Finds a job by id: still in the outbox (committed, not yet relayed), or in one of the queues. */
@Injectable()
export class JobLocator {
  constructor(
    private readonly queues: QueueRegistry,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async get(id: string): Promise<LocatedJob> {
    const pending = await this.inOutbox(id);
    if (pending) return pending;
    try {
      for (const queue of this.queues.all()) {
        // State first: reading the job hash first could race with its removal and report a half-gone job.
        const state = await queue.getJobState(id);
        if (state === 'unknown') continue;
        const job = await queue.getJob(id);
        if (job) return { where: 'queue', queue, job: job as Job, state };
      }
    } catch (err) {
      throw new ServiceUnavailableException('the job queue is unavailable; try again shortly', { cause: err });
    }
    throw new NotFoundException('job not found (it never existed, or was removed after its retention period)');
  }

  private async inOutbox(id: string): Promise<LocatedJob | undefined> {
    const [row] = await this.dataSource.query<
      Array<{
        queue: string;
        job_name: string;
        created_at: Date;
        attempts: number;
        last_error: string | null;
        dead_at: Date | null;
      }>
    >(`SELECT queue, job_name, created_at, attempts, last_error, dead_at FROM outbox WHERE id = $1`, [id]);
    if (!row) return undefined;
    return {
      where: 'outbox',
      id,
      queue: row.queue,
      name: row.job_name,
      createdAt: row.created_at,
      attempts: row.attempts,
      lastError: row.last_error,
      deadAt: row.dead_at,
    };
  }
}
