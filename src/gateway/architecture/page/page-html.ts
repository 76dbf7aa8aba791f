// Embedded as a string module: `tsc` copies no assets into dist/, and the gateway must work offline.
export const PAGE_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<title>Live architecture · zero-to-millions</title>
<link rel="stylesheet" href="/_gateway/architecture.css">
<script src="/_gateway/architecture.js" defer></script>
</head>
<body>
<header class="page-header">
  <h1>zero-to-millions, live</h1>
  <p class="connection" id="connection" data-connection="connecting">
    <span class="connection-dot" aria-hidden="true"></span>
    <span id="connection-text" role="status">Connecting…</span>
  </p>
  <p class="updated" id="updated"></p>
  <button type="button" id="sign-out" class="sign-out" hidden>Sign out</button>
</header>
<main>
  <form id="sign-in" class="sign-in" hidden>
    <h2>Sign in</h2>
    <p>This page reads the gateway's admin API. Paste the gateway admin token (in the local stack:
      <code>cat .stack/gateway-admin-token</code>). The browser keeps a read-only session cookie for this
      gateway process; the token itself is not stored.</p>
    <label for="token">Gateway admin token</label>
    <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required>
    <button type="submit">Sign in</button>
    <p id="sign-in-error" class="error" role="alert"></p>
  </form>

  <section id="flow-section" aria-labelledby="flow-title">
    <h2 id="flow-title">Request flow, as it runs now</h2>
    <p class="legend">State of each box:
      <span class="badge" data-health="up"><span aria-hidden="true">● </span>up</span>
      <span class="badge" data-health="degraded"><span aria-hidden="true">▲ </span>degraded</span>
      <span class="badge" data-health="down"><span aria-hidden="true">✖ </span>down</span>
      <span class="badge" data-health="unknown"><span aria-hidden="true">? </span>unknown</span>
    </p>
    <ol class="flow" id="flow">
      <li class="tier" id="tier-clients">
        <h3>Clients</h3>
        <ul class="nodes">
          <li class="node" data-node="clients" data-kind="clients" data-health="up">
            <h4 class="node-name">Browsers, curl</h4>
            <p class="node-detail">Every request enters through the gateway; API instances are private.</p>
          </li>
        </ul>
      </li>
      <li class="tier" id="tier-gateway">
        <h3>Gateway</h3>
        <ul class="nodes" id="nodes-gateway"></ul>
      </li>
      <li class="tier" id="tier-apis">
        <h3>API instances</h3>
        <ul class="nodes" id="nodes-apis"></ul>
      </li>
      <li class="tier" id="tier-data">
        <h3>Data</h3>
        <h4 class="group">PostgreSQL</h4>
        <ul class="nodes" id="nodes-databases"></ul>
        <h4 class="group">Redis: cache, sessions</h4>
        <ul class="nodes" id="nodes-redis"></ul>
        <h4 class="group">Queue (BullMQ on Redis)</h4>
        <ul class="nodes" id="nodes-queue"></ul>
      </li>
      <li class="tier" id="tier-workers">
        <h3>Workers</h3>
        <ul class="nodes" id="nodes-workers"></ul>
        <p class="empty" id="no-workers" hidden>No worker is observed: list their addresses in <code>GATEWAY_OBSERVE_WORKERS</code>.</p>
      </li>
    </ol>
  </section>

  <section class="changes-section" aria-labelledby="changes-title">
    <h2 id="changes-title">Changes</h2>
    <ol id="changes" class="changes" role="log" aria-live="polite"></ol>
    <p class="empty" id="no-changes">Nothing has changed since this page opened.</p>
  </section>

  <section class="drills" aria-labelledby="drills-title">
    <h2 id="drills-title">Try this</h2>
    <p>In a second terminal, while <code>npm run stack</code> runs, break something and watch it here:</p>
    <ol>
      <li><code>npm run stack -- kill api-2</code>: api-2 turns red once the gateway's checks fail
        (<em>fall</em> checks, 2 × 1 s by default) and requests keep succeeding on the others.
        <code>npm run stack -- start api-2</code> brings it back green after <em>rise</em> passing checks.</li>
      <li><code>npm run stack -- freeze replica-1</code>: hung, not dead. replica-1 turns red and the API
        instances amber (degraded: reads move to the other replica). <code>npm run stack -- thaw replica-1</code>.</li>
      <li><code>npm run stack -- kill primary</code>, then <code>npm run stack -- promote replica-1</code>:
        the primary box turns red, then replica-1 moves to the top as the new primary.</li>
      <li><code>npm run stack -- freeze redis</code>: Redis and the queue turn red, and so does every API instance after
        its checks fail (sessions live in Redis, so readiness needs it): the gateway answers 503 at once instead of hanging.
        <code>npm run stack -- thaw redis</code> and everything turns green again.</li>
      <li><code>npm run stack -- stop worker-1</code>, then create articles: jobs pile up as waiting and the queue turns amber.
        <code>npm run stack -- start worker-1</code> drains them.</li>
      <li><code>npm run stack -- add-replica</code>: a new replica box appears and starts taking reads.</li>
      <li>Traffic: <code>for i in $(seq 500); do curl -s -o /dev/null localhost:8080/articles; done</code> raises the
        requests per second and the cache hit ratio; repeat <code>curl -s -o /dev/null localhost:8080/static/demo.css</code>
        for the edge cache.</li>
    </ol>
    <p>More in <code>docs/architecture-page.md</code>.</p>
  </section>
</main>
</body>
</html>
`;
