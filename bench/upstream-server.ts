import { createServer } from 'node:http';

/**
 * The benchmark's upstream: a bare node:http handler answering a small JSON body on any path (and
 * /health/ready for the gateway's checks), so the proxies, not the upstreams, are what is measured.
 * Usage: tsx bench/upstream-server.ts <port> <name>
 */
const port = Number(process.argv[2]);
const name = process.argv[3] ?? `upstream-${port}`;
const body = Buffer.from(JSON.stringify({ hello: 'world', servedBy: name }));
const ready = Buffer.from('{"status":"ok"}');

const server = createServer((req, res) => {
  const payload = req.url === '/health/ready' ? ready : body;
  res.writeHead(200, [
    'content-type',
    'application/json',
    'content-length',
    String(payload.length),
    'x-served-by',
    name,
  ]);
  res.end(payload);
});
// As the API: longer than any proxy's upstream idle timeout, so proxies close idle connections first.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(port, '127.0.0.1', () => console.log(`${name} listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
