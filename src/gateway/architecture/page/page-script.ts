// The page's only script, served as /_gateway/architecture.js (no framework: it renders ~20 boxes).
// Text goes in with textContent only, so a name read from a scrape can never become markup.
export const PAGE_SCRIPT = String.raw`'use strict';
(function () {
  var ICONS = { up: '●', degraded: '▲', down: '✖', unknown: '?' };
  var byId = function (id) { return document.getElementById(id); };
  var source = null;
  var lastAt = 0;
  var intervalMs = 1000;
  var seen = new Map();

  function setConnection(state, text) {
    var el = byId('connection');
    if (el.dataset.connection === state) return;
    el.dataset.connection = state;
    byId('connection-text').textContent = text;
  }

  function call(path, init) {
    return fetch('/_gateway/' + path, Object.assign({ credentials: 'same-origin', cache: 'no-store' }, init || {}));
  }

  async function start() {
    // A token in the fragment (#token=...) never reaches a server or a log; it is removed at once.
    var fromFragment = new URLSearchParams(location.hash.slice(1)).get('token');
    if (fromFragment) {
      history.replaceState(null, '', location.pathname + location.search);
      await signIn(fromFragment);
    }
    var res = await call('architecture/session');
    if (!res.ok) return setConnection('unavailable', 'Not available on this listener (see docs/architecture-page.md)');
    var state = await res.json();
    byId('sign-out').hidden = !state.tokenRequired || !state.signedIn;
    if (!state.signedIn) return showSignIn('');
    connect();
  }

  async function signIn(token) {
    var res = await call('architecture/sign-in', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: token }) });
    if (res.ok) return true;
    var body = await res.json().catch(function () { return {}; });
    showSignIn(body.message || 'sign-in failed (HTTP ' + res.status + ')');
    return false;
  }

  function showSignIn(message) {
    if (source) source.close();
    source = null;
    setConnection('signed-out', 'Signed out');
    byId('sign-in').hidden = false;
    byId('sign-out').hidden = true;
    byId('sign-in-error').textContent = message;
    byId('token').focus();
  }

  byId('sign-in').addEventListener('submit', async function (event) {
    event.preventDefault();
    byId('sign-in-error').textContent = '';
    var input = byId('token');
    if (!(await signIn(input.value.trim()))) return;
    input.value = '';
    byId('sign-in').hidden = true;
    byId('sign-out').hidden = false;
    connect();
  });

  byId('sign-out').addEventListener('click', async function () {
    await call('architecture/sign-out', { method: 'POST' });
    showSignIn('');
  });

  function connect() {
    if (source) source.close();
    source = new EventSource('/_gateway/architecture/events');
    source.addEventListener('snapshot', function (event) { render(JSON.parse(event.data)); });
    source.addEventListener('error', function () {
      if (source.readyState === EventSource.CONNECTING) return setConnection('reconnecting', 'Reconnecting…');
      // Closed for good (401 after a gateway restart, 503 at the stream cap): ask again shortly.
      setConnection('reconnecting', 'Stream refused; retrying…');
      setTimeout(start, 3000);
    });
  }

  setInterval(function () {
    var stale = lastAt > 0 && Date.now() - lastAt > 3 * intervalMs + 1000;
    byId('flow').dataset.stale = String(stale);
    if (stale && byId('connection').dataset.connection === 'live') setConnection('stale', 'No update for a while');
  }, 1000);

  var fmt = {
    rate: function (v) { return v === null ? '–' : v < 10 ? v.toFixed(1) : String(Math.round(v)); },
    ratio: function (v) { return v === null ? '–' : Math.round(v * 100) + ' %'; },
    count: function (v) { return v === null || v === undefined ? '–' : String(v); },
    lag: function (s, bytes) {
      if (s === null) return '–';
      return s.toFixed(1) + ' s' + (bytes ? ' · ' + (bytes >= 1024 ? Math.round(bytes / 1024) + ' KiB' : bytes + ' B') : '');
    },
  };

  var VIEWS = {
    gateway: function (g) {
      return [
        ['req/s', 'rps', g.rps, fmt.rate(g.rps)],
        ['in flight', 'inFlight', g.inFlight, fmt.count(g.inFlight)],
        ['in rotation', 'available', g.upstreams.available, g.upstreams.available + ' of ' + g.upstreams.total],
        ['edge cache hits', 'edgeHitRatio', g.edgeCache.hitRatio, g.edgeCache.enabled ? fmt.ratio(g.edgeCache.hitRatio) : 'off'],
        ['page hits', 'edgePageHitRatio', g.edgeCache.pageHitRatio, g.edgeCache.enabled ? fmt.ratio(g.edgeCache.pageHitRatio) : 'off'],
        ['edge cache entries', 'edgeEntries', g.edgeCache.entries, fmt.count(g.edgeCache.entries)],
      ];
    },
    api: function (a) {
      return [
        ['req/s', 'rps', a.rps, fmt.rate(a.rps)],
        ['in flight', 'inFlight', a.inFlight, fmt.count(a.inFlight)],
        ['cache hits', 'cacheHitRatio', a.cacheHitRatio, fmt.ratio(a.cacheHitRatio)],
        ['gateway tries/s', 'proxiedRps', a.proxiedRps, fmt.rate(a.proxiedRps)],
      ];
    },
    database: function (d) {
      return [
        ['lag', 'lagSeconds', d.lagSeconds, d.role === 'replica' ? fmt.lag(d.lagSeconds, d.lagBytes) : '–'],
        ['timeline', 'timeline', d.timeline, fmt.count(d.timeline)],
      ];
    },
    redis: function () { return []; },
    queue: function (q) {
      return [
        ['waiting', 'waiting', q.waiting, fmt.count(q.waiting)],
        ['workers', 'workers', q.workers, fmt.count(q.workers)],
        ['active', 'active', q.active, fmt.count(q.active)],
        ['failed', 'failed', q.failed, fmt.count(q.failed)],
        ['delayed', 'delayed', q.delayed, fmt.count(q.delayed)],
        ['in outbox', 'outboxPending', q.outboxPending, fmt.count(q.outboxPending)],
      ];
    },
    worker: function (w) {
      return [
        ['active jobs', 'active', w.active, w.active === null ? '–' : w.active + ' of ' + fmt.count(w.concurrency)],
        ['jobs/s', 'jobsPerSecond', w.jobsPerSecond, fmt.rate(w.jobsPerSecond)],
      ];
    },
  };

  function render(s) {
    intervalMs = s.intervalMs;
    lastAt = Date.now();
    byId('flow').dataset.seq = String(s.seq);
    setConnection('live', 'Live');
    byId('updated').textContent = 'Updated ' + new Date(s.at).toLocaleTimeString() + ', every ' + s.intervalMs / 1000 +
      ' s. An instance leaves rotation after ' + s.healthChecks.fall + ' failed checks ' + s.healthChecks.intervalMs + ' ms apart.';
    renderList(byId('nodes-gateway'), 'gateway', [s.gateway], 4);
    renderList(byId('nodes-apis'), 'api', s.apis, 4);
    renderList(byId('nodes-databases'), 'database', s.databases, 5);
    renderList(byId('nodes-redis'), 'redis', [s.redis], 5);
    renderList(byId('nodes-queue'), 'queue', [s.queue], 5);
    renderList(byId('nodes-workers'), 'worker', s.workers, 4);
    byId('no-workers').hidden = s.workers.length > 0;
  }

  function renderList(list, kind, items, level) {
    var before = new Map();
    var existing = new Map();
    Array.prototype.forEach.call(list.children, function (li, index) {
      existing.set(li.dataset.id, li);
      before.set(li.dataset.id, { index: index, top: li.getBoundingClientRect().top });
    });
    items.forEach(function (item, index) {
      var li = existing.get(item.id) || createNode(item.id, kind, level);
      existing.delete(item.id);
      update(li, kind, item);
      if (list.children[index] !== li) list.insertBefore(li, list.children[index] || null);
    });
    existing.forEach(function (li) { li.remove(); });
    slide(list, before);
  }

  // A promotion reorders the database boxes: slide the moved ones to their new places (FLIP), unless motion is unwanted.
  function slide(list, before) {
    if (!before.size || matchMedia('(prefers-reduced-motion: reduce)').matches) return;
    Array.prototype.forEach.call(list.children, function (li, index) {
      var was = before.get(li.dataset.id);
      if (was === undefined || was.index === index) return;
      var dy = was.top - li.getBoundingClientRect().top;
      if (Math.abs(dy) > 1) li.animate([{ transform: 'translateY(' + dy + 'px)' }, { transform: 'none' }], { duration: 450, easing: 'ease-out' });
    });
  }

  function createNode(id, kind, level) {
    var li = document.createElement('li');
    li.className = 'node';
    li.dataset.id = id;
    li.dataset.kind = kind;
    var name = document.createElement('h' + level);
    name.className = 'node-name';
    var health = document.createElement('p');
    health.className = 'node-health';
    var detail = document.createElement('p');
    detail.className = 'node-detail';
    var metrics = document.createElement('dl');
    metrics.className = 'metrics';
    li.append(name, health, detail, metrics);
    return li;
  }

  function update(li, kind, item) {
    var previous = seen.get(item.id);
    if (previous && previous.health !== item.health) note(item.name + ': ' + previous.health + ' → ' + item.health + ' (' + item.detail + ')');
    if (previous && item.role && previous.role !== item.role && previous.role !== 'unknown') note(item.name + ': ' + previous.role + ' → ' + item.role);
    seen.set(item.id, { health: item.health, role: item.role });
    li.dataset.node = item.name;
    li.dataset.health = item.health;
    if (item.role) li.dataset.role = item.role;
    var parts = li.children;
    parts[0].textContent = item.name;
    if (item.role) {
      var role = document.createElement('span');
      role.className = 'role';
      role.textContent = item.role;
      parts[0].append(' ', role);
    }
    parts[1].textContent = ICONS[item.health] + ' ' + item.health;
    parts[2].textContent = item.detail;
    var rows = VIEWS[kind](item);
    var dl = parts[3];
    if (dl.children.length !== rows.length) {
      dl.replaceChildren();
      rows.forEach(function (row) {
        var div = document.createElement('div');
        var dt = document.createElement('dt');
        dt.textContent = row[0];
        var dd = document.createElement('dd');
        dd.dataset.metric = row[1];
        div.append(dt, dd);
        dl.append(div);
      });
    }
    rows.forEach(function (row, i) {
      var dd = dl.children[i].lastChild;
      dd.textContent = row[3];
      dd.dataset.value = row[2] === null || row[2] === undefined ? '' : String(row[2]);
    });
  }

  function note(text) {
    var li = document.createElement('li');
    var time = document.createElement('time');
    var now = new Date();
    time.dateTime = now.toISOString();
    time.textContent = now.toLocaleTimeString();
    li.append(time, text);
    var log = byId('changes');
    log.append(li);
    while (log.children.length > 50) log.firstChild.remove();
    log.scrollTop = log.scrollHeight;
    byId('no-changes').hidden = true;
  }

  start().catch(function (err) { setConnection('unavailable', 'Could not start: ' + err.message); });
})();
`;
