import { Controller, Get } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrorDto } from '../../http';
import { ApiJobId, JobId } from './job-id.param';
import { JobDto } from './job.dto';
import { JobLocator } from './job-locator';

@ApiTags('jobs')
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobLocator) {}

  @Get(':id')
  @ApiJobId()
  @ApiOperation({ summary: 'State of a background job (e.g. the render job an article names in render.jobId)' })
  @ApiOkResponse({ type: JobDto })
  @ApiBadRequestResponse({ type: ApiErrorDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  @ApiServiceUnavailableResponse({ type: ApiErrorDto, description: 'The queue is unreachable' })
  async get(@JobId() id: string): Promise<JobDto> {
    return JobDto.from(await this.jobs.get(id));
  }
}
