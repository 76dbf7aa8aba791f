import replyFrom from '@fastify/reply-from';
import Fastify from 'fastify';

/**
 * The Node peer for the gateway benchmark: Fastify + @fastify/reply-from, balancing round-robin over
 * the same upstreams (an array `base` makes reply-from use undici's BalancedPool).
 * Usage: tsx bench/reply-from-proxy.ts <port> <upstream,...>
 */
async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  const upstreams = process.argv[3]!.split(',');
  const app = Fastify({ logger: false });
  await app.register(replyFrom, {
    base: upstreams,
    undici: { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 },
  });
  app.all('/*', (request, reply) => reply.from(request.url));
  await app.listen({ port, host: '127.0.0.1' });
  console.log(`reply-from listening on ${port}`);
}

void main();
