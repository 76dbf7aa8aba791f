// System fonts only: the page loads nothing from another origin and works offline.
export const PAGE_STYLE = String.raw`
:root {
  color-scheme: light dark;
  --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --panel: #f6f8fa; --line: #d1d9e0;
  --up: #1a7f37; --up-bg: #dafbe1;
  --degraded: #8a5a00; --degraded-bg: #fff1c2;
  --down: #c11f2b; --down-bg: #ffe4e1;
  --unknown: #59636e; --unknown-bg: #eef1f4;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
  line-height: 1.4;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #151b23; --line: #3d444d;
    --up: #4ac26b; --up-bg: #0f2d1a; --degraded: #e3b341; --degraded-bg: #332701;
    --down: #ff7b72; --down-bg: #3b0d0c; --unknown: #9198a1; --unknown-bg: #212830;
  }
}
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); }
main, .page-header { max-width: 96rem; margin: 0 auto; padding: 0 1rem; }
.page-header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.5rem 1.5rem; padding-top: 0.75rem; }
h1 { font-size: 1.4rem; margin: 0.25rem 0; }
h2 { font-size: 1.15rem; margin: 1.25rem 0 0.5rem; }
h3 { font-size: 1rem; margin: 0 0 0.5rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
h4.group { font-size: 0.9rem; margin: 0.75rem 0 0.35rem; color: var(--muted); }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.9em; background: var(--panel); padding: 0 0.2em; border-radius: 3px; }
.connection { margin: 0; font-weight: 600; display: flex; align-items: center; gap: 0.4rem; }
.connection-dot { width: 0.7rem; height: 0.7rem; border-radius: 50%; background: var(--unknown); }
[data-connection="live"] .connection-dot { background: var(--up); }
[data-connection="reconnecting"] .connection-dot, [data-connection="stale"] .connection-dot { background: var(--degraded); }
[data-connection="signed-out"] .connection-dot, [data-connection="unavailable"] .connection-dot { background: var(--down); }
.updated { margin: 0; color: var(--muted); font-size: 0.9rem; }
.sign-out { margin-left: auto; }
.sign-in { max-width: 36rem; padding: 1rem; border: 1px solid var(--line); border-radius: 8px; background: var(--panel); }
.sign-in label { display: block; font-weight: 600; margin: 0.5rem 0 0.25rem; }
.sign-in input { width: 100%; padding: 0.4rem; font: inherit; }
.sign-in button { margin-top: 0.6rem; }
button { font: inherit; padding: 0.3rem 0.8rem; border-radius: 6px; border: 1px solid var(--line); background: var(--bg); color: var(--fg); cursor: pointer; }
button:focus-visible, input:focus-visible { outline: 3px solid #0969da; outline-offset: 2px; }
.error { color: var(--down); font-weight: 600; min-height: 1.4em; }
.legend { color: var(--muted); font-size: 0.9rem; margin: 0 0 0.75rem; }
.badge { display: inline-block; padding: 0 0.45em; border-radius: 4px; font-weight: 600; margin-right: 0.3em; }
.flow { list-style: none; margin: 0; padding: 0; display: grid; gap: 2.25rem; grid-template-columns: repeat(5, minmax(0, 1fr)); align-items: start; }
.tier { position: relative; min-width: 0; }
.tier + .tier::before { content: "→" / ""; position: absolute; left: -1.7rem; top: 2.1rem; font-size: 1.4rem; color: var(--muted); }
.nodes { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.6rem; }
.node { border: 1px solid var(--line); border-left: 0.45rem solid var(--unknown); border-radius: 8px; padding: 0.5rem 0.65rem; background: var(--panel); transition: border-color 0.3s; }
.node-name { font-size: 1rem; margin: 0; overflow-wrap: anywhere; }
.node-health { margin: 0.15rem 0 0; font-weight: 700; }
.node-detail { margin: 0.15rem 0 0; color: var(--muted); font-size: 0.85rem; overflow-wrap: anywhere; }
.node .role { font-weight: 600; font-size: 0.8rem; margin-left: 0.35em; padding: 0 0.4em; border: 1px solid var(--line); border-radius: 999px; color: var(--muted); vertical-align: 0.1em; }
.node[data-role="primary"] .role { color: var(--fg); border-color: var(--fg); }
.metrics { display: grid; grid-template-columns: auto 1fr; gap: 0.05rem 0.6rem; margin: 0.4rem 0 0; font-size: 0.88rem; }
.metrics div { display: contents; }
.metrics dt { color: var(--muted); }
.metrics dd { margin: 0; font-variant-numeric: tabular-nums; font-weight: 600; }
[data-health="up"] { --state: var(--up); --state-bg: var(--up-bg); }
[data-health="degraded"] { --state: var(--degraded); --state-bg: var(--degraded-bg); }
[data-health="down"] { --state: var(--down); --state-bg: var(--down-bg); }
[data-health="unknown"] { --state: var(--unknown); --state-bg: var(--unknown-bg); }
.badge, .node-health { color: var(--state); }
.badge { background: var(--state-bg); }
.node[data-health] { border-left-color: var(--state); }
.node[data-health="down"], .node[data-health="degraded"] { background: var(--state-bg); }
.flow[data-stale="true"] .node:not([data-kind="clients"]) { opacity: 0.55; }
.empty { color: var(--muted); font-size: 0.9rem; }
.changes { margin: 0; padding: 0; list-style: none; max-height: 12rem; overflow: auto; font-size: 0.9rem; }
.changes time { color: var(--muted); font-variant-numeric: tabular-nums; margin-right: 0.4em; }
.drills ol { padding-left: 1.2rem; }
.drills li { margin-bottom: 0.4rem; }
@media (max-width: 70rem) {
  .flow { grid-template-columns: 1fr; gap: 2rem; }
  .tier + .tier::before { content: "↓" / ""; left: 50%; top: -1.8rem; }
}
@media (prefers-reduced-motion: reduce) { .node { transition: none; } }
`;
