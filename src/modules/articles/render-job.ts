import { z } from 'zod';
import { canonicalUuid } from '../../infra/http';
import { type JobEnvelope, type OutboxMessage, RENDER_QUEUE } from '../../infra/queue';

export const RENDER_JOB = 'render';

/**
 * The render job, as the articles module requests it (the contract belongs to the producer; the rendering
 * module consumes it). Render the body of `articleId` as it was at `revision`; a job for an older revision is a no-op.
 */
export interface RenderJobData extends JobEnvelope {
  readonly articleId: string;
  readonly revision: number;
}

const schema = z.object({
  // Canonical, like every id from the API's pipe: the job's cache invalidation must hit the readers' key.
  articleId: z.uuid().transform(canonicalUuid),
  revision: z.number().int().positive(),
  requestId: z.string().max(128).optional(),
  minLsn: z
    .string()
    .regex(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i, 'must be a WAL position like 0/3000060')
    .optional(),
});

export function renderJob(data: RenderJobData): OutboxMessage<RenderJobData> {
  return { queue: RENDER_QUEUE, name: RENDER_JOB, data };
}

export function parseRenderJob(data: unknown): RenderJobData {
  const parsed = schema.safeParse(data);
  if (!parsed.success)
    throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; '));
  return parsed.data;
}
