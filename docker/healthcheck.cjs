'use strict';
// Container health check without curl (the slim image has none): exit 0 on a 2xx answer, 1 otherwise.
// Usage: node docker/healthcheck.cjs [url]; the default is the API's liveness on $PORT.
const url = process.argv[2] || `http://127.0.0.1:${process.env.PORT || 3000}/health/live`;
fetch(url, { signal: AbortSignal.timeout(2500), headers: { 'user-agent': 'docker-healthcheck' } }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  (err) => {
    console.error(`health check ${url} failed: ${err.cause?.code ?? err.name}`);
    process.exit(1);
  },
);
