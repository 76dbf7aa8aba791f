import {
  ConflictException,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Post,
  Query,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AdminOnly, ApiErrorDto } from '../../http';
import { QueueRegistry } from '../queue-registry';
import { RENDER_QUEUE } from '../queue-names';
import { FailedJobsQuery } from './failed-jobs.query';
import { ApiJobId, JobId } from './job-id.param';
import { AdminJobDto, FailedJobsPageDto, JobDto } from './job.dto';
import { JobLocator } from './job-locator';

/** The dead-letter view: jobs that used up their attempts stay in the failed set until retried or expired. */
@ApiTags('admin')
@AdminOnly()
@ApiBadRequestResponse({ type: ApiErrorDto })
@Controller('admin/jobs')
export class AdminJobsController {
  constructor(
    private readonly queues: QueueRegistry,
    private readonly jobs: JobLocator,
  ) {}

  @Get('failed')
  @ApiOperation({ summary: 'Failed jobs (dead letters), newest first, with their error and payload' })
  @ApiOkResponse({ type: FailedJobsPageDto })
  async failed(@Query() { queue = RENDER_QUEUE, limit = 20, offset = 0 }: FailedJobsQuery): Promise<FailedJobsPageDto> {
    const q = this.queues.get(queue)!;
    try {
      const [jobs, total] = await Promise.all([q.getFailed(offset, offset + limit - 1), q.getFailedCount()]);
      return { items: jobs.map((job) => AdminJobDto.fromJob(queue, job as never)), total };
    } catch (err) {
      throw new ServiceUnavailableException('the job queue is unavailable; try again shortly', { cause: err });
    }
  }

  @Post(':id/retry')
  @HttpCode(HttpStatus.OK)
  @ApiJobId()
  @ApiOperation({ summary: 'Send a failed job back to the queue with a fresh set of attempts' })
  @ApiOkResponse({ type: JobDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'The job is not in the failed set' })
  async retry(@JobId() id: string): Promise<JobDto> {
    const located = await this.jobs.get(id);
    if (located.where !== 'queue' || located.state !== 'failed') {
      throw new ConflictException(
        `job is ${located.where === 'outbox' ? 'still in the outbox' : located.state}; only failed jobs can be retried`,
      );
    }
    await located.job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return JobDto.from(await this.jobs.get(id));
  }
}
