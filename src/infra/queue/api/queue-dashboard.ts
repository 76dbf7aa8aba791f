import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { UnauthorizedException } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import type { AppConfig } from '../../../config';
import { ADMIN_CHALLENGE, isAdminAuthorized, toApiError } from '../../http';
import { QueueRegistry } from '../queue-registry';

export const DASHBOARD_PATH = '/admin/queues';

/**
 * bull-board at /admin/queues, only when ADMIN_ENABLED, behind ADMIN_TOKEN. The check is an onRequest hook of
 * an encapsulated Fastify scope that holds every dashboard route: the UI, its static files and its JSON API
 * (bull-board's own `middleware` option guards only the entry route, not /api/*).
 */
export async function registerQueueDashboard(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  if (!config.admin.enabled) return;
  const board = new FastifyAdapter();
  board.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: app
      .get(QueueRegistry)
      .all()
      .map((q) => new BullMQAdapter(q)),
    serverAdapter: board,
  });
  await app.register(async (scope: FastifyInstance) => {
    scope.addHook('onRequest', async (request, reply) => {
      if (isAdminAuthorized(request.headers.authorization, config.admin.token)) return;
      const body = toApiError(new UnauthorizedException('admin credentials required'));
      await reply.status(401).header('www-authenticate', ADMIN_CHALLENGE).send(body);
    });
    await scope.register(board.registerPlugin(), { prefix: DASHBOARD_PATH });
  });
}
