import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Job } from 'bullmq';
import type { LocatedJob } from './job-locator';

const STATES = [
  'outbox',
  'outbox-dead',
  'waiting',
  'prioritized',
  'delayed',
  'active',
  'completed',
  'failed',
  'waiting-children',
] as const;

export class JobDto {
  @ApiProperty({ format: 'uuid', description: 'The outbox row id, which is also the BullMQ jobId' })
  id: string;

  @ApiProperty({ example: 'render' })
  queue: string;

  @ApiProperty({ example: 'render' })
  name: string;

  @ApiProperty({
    enum: STATES,
    description:
      'outbox: committed, not yet relayed to the queue (e.g. while Redis is down); outbox-dead: the queue refused it OUTBOX_MAX_ATTEMPTS times, so it is kept and relayed no more (POST /admin/outbox/{id}/retry)',
  })
  state: string;

  @ApiProperty({ description: 'Failed attempts so far' })
  attemptsMade: number;

  @ApiProperty({ description: 'Attempts allowed before the job is failed for good' })
  attempts: number;

  @ApiProperty({
    description: 'Times a worker started it: above 1, it ran again after a failed attempt or a stall (at-least-once)',
  })
  runs: number;

  @ApiProperty({ type: String, nullable: true, description: 'Why the last attempt failed' })
  failedReason: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  processedAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt: string | null;

  static from(located: LocatedJob): JobDto {
    if (located.where === 'outbox') {
      return {
        id: located.id,
        queue: located.queue,
        name: located.name,
        state: located.deadAt ? 'outbox-dead' : 'outbox',
        attemptsMade: located.attempts,
        attempts: 0,
        runs: 0,
        failedReason: located.lastError,
        createdAt: located.createdAt.toISOString(),
        processedAt: null,
        finishedAt: null,
      };
    }
    return JobDto.fromQueueJob(located.queue.name, located.job, located.state);
  }

  static fromQueueJob(queue: string, job: Job, state: string): JobDto {
    return {
      id: job.id!,
      queue,
      name: job.name,
      state,
      attemptsMade: job.attemptsMade,
      attempts: job.opts.attempts ?? 1,
      runs: job.attemptsStarted ?? 0,
      failedReason: job.failedReason || null,
      createdAt: iso(job.timestamp)!,
      processedAt: iso(job.processedOn),
      finishedAt: iso(job.finishedOn),
    };
  }
}

/** What an operator sees in the dead-letter list: the job plus its payload. */
export class AdminJobDto extends JobDto {
  @ApiPropertyOptional({ description: 'The job payload', example: { articleId: '…', revision: 2, requestId: '…' } })
  data: unknown;

  static fromJob(queueName: string, job: Job): AdminJobDto {
    return { ...JobDto.fromQueueJob(queueName, job, 'failed'), data: job.data };
  }
}

export class FailedJobsPageDto {
  @ApiProperty({ type: [AdminJobDto] })
  items: AdminJobDto[];

  @ApiProperty({ description: 'Failed jobs in this queue in all' })
  total: number;
}

function iso(ms: number | undefined): string | null {
  return ms ? new Date(ms).toISOString() : null;
}
