import { Controller, Get, HttpCode, HttpStatus, NotFoundException, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AdminOnly, ApiErrorDto } from '../../http';
import { ApiJobId, JobId } from './job-id.param';
import { DeadOutboxPageDto, DeadOutboxRowDto, PageQuery } from './outbox-dead.dto';

interface DeadRow {
  id: string;
  queue: string;
  job_name: string;
  payload: unknown;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  dead_at: Date;
}

/**
 * The outbox's dead letters: rows the queue refused OUTBOX_MAX_ATTEMPTS times (an unknown queue, a payload it
 * rejects). They are kept with their error, out of the relay's way, until an operator fixes the cause and retries.
 */
@ApiTags('admin')
@AdminOnly()
@ApiBadRequestResponse({ type: ApiErrorDto })
@Controller('admin/outbox')
export class AdminOutboxController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @Get('dead')
  @ApiOperation({ summary: 'Dead-lettered outbox rows, newest first, with their error and payload' })
  @ApiOkResponse({ type: DeadOutboxPageDto })
  async dead(@Query() { limit = 20, offset = 0 }: PageQuery): Promise<DeadOutboxPageDto> {
    const [rows, [count]] = await Promise.all([
      this.dataSource.query<DeadRow[]>(
        `SELECT id, queue, job_name, payload, attempts, last_error, created_at, dead_at FROM outbox
          WHERE dead_at IS NOT NULL ORDER BY dead_at DESC, id LIMIT $1 OFFSET $2`,
        [limit, offset],
      ),
      this.dataSource.query<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM outbox WHERE dead_at IS NOT NULL`),
    ]);
    return { items: rows.map(toDto), total: count?.n ?? 0 };
  }

  @Post(':id/retry')
  @HttpCode(HttpStatus.OK)
  @ApiJobId()
  @ApiOperation({ summary: 'Give a dead-lettered row back to the relay, with a fresh set of attempts' })
  @ApiOkResponse({ type: DeadOutboxRowDto })
  @ApiNotFoundResponse({ type: ApiErrorDto, description: 'No dead-lettered outbox row has this id' })
  async retry(@JobId() id: string): Promise<DeadOutboxRowDto> {
    const [rows] = await this.dataSource.query<[DeadRow[], number]>(
      `UPDATE outbox SET dead_at = NULL, attempts = 0, available_at = now()
        WHERE id = $1 AND dead_at IS NOT NULL
        RETURNING id, queue, job_name, payload, attempts, last_error, created_at, dead_at`,
      [id],
    );
    const row = rows[0];
    if (!row) throw new NotFoundException('no dead-lettered outbox row has this id');
    return toDto(row);
  }
}

function toDto(r: DeadRow): DeadOutboxRowDto {
  return {
    id: r.id,
    queue: r.queue,
    name: r.job_name,
    data: r.payload,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: r.created_at.toISOString(),
    deadAt: r.dead_at ? r.dead_at.toISOString() : null,
  };
}
