/**
 * The dashboard page: HTML with inline CSS, its icon, and the client script served as `/app.js` (the page's
 * Content-Security-Policy allows scripts from the server only). Kept as strings so they ship in dist with no
 * build step. The script is one closure assembled from three parts: the task state and event stream
 * (client-core.ts), the graph, list, counts and chart (client-view.ts), and the detail panel (client-detail.ts).
 *
 * Escaping rule: the client script never uses innerHTML (or outerHTML, insertAdjacentHTML, document.write). Every
 * task name, message and error is inserted with textContent / createTextNode.
 */
import { CORE_SCRIPT, START_SCRIPT } from './client-core.js';
import { DETAIL_SCRIPT } from './client-detail.js';
import { VIEW_SCRIPT } from './client-view.js';

/** The page's icon (`/favicon.svg`, also answered at `/favicon.ico`): three nodes of a graph, drawn here, not fetched. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="6" fill="#0969da"/>
<path d="M10 16 L22 9 M10 16 L22 23" stroke="#fff" stroke-width="2.5"/>
<circle cx="9" cy="16" r="4.5" fill="#dafbe1"/><circle cx="23" cy="9" r="4.5" fill="#ddf4ff"/><circle cx="23" cy="23" r="4.5" fill="#ffcecb"/>
</svg>
`;

const STYLE = `
  :root { font-family: system-ui, sans-serif; color: #1f2328; background: #f6f8fa; }
  body { margin: 0; display: flex; flex-direction: column; height: 100vh; overflow: hidden; }
  header { display: flex; gap: 1rem; align-items: center; padding: .5rem 1rem; background: #fff; border-bottom: 1px solid #d0d7de; flex-wrap: wrap; }
  header h1 { font-size: 1rem; margin: 0 1rem 0 0; }
  .count { padding: .15rem .5rem; border-radius: 1rem; font-size: .85rem; border: 1px solid #d0d7de; }
  .count.stalled { background: #fff1e5; border-color: #bc4c00; color: #953800; }
  .count.late { background: #ffebe9; border-color: #cf222e; color: #a40e26; }
  .count.cached { background: #dafbe1; border-color: #1a7f37; color: #116329; }
  #conn { margin-left: auto; font-size: .8rem; color: #57606a; }
  main { flex: 1; display: flex; min-height: 0; }
  #view { flex: 1; overflow: auto; position: relative; min-width: 0; }
  #graph svg { display: block; }
  #list table { border-collapse: collapse; width: 100%; font-size: .85rem; }
  #list td, #list th { border-bottom: 1px solid #d0d7de; padding: .2rem .5rem; text-align: left; }
  #list th { position: sticky; top: 0; background: #fff; }
  #list tr { cursor: pointer; }
  #note { padding: .5rem 1rem; color: #57606a; font-size: .85rem; }
  #note:empty { display: none; }
  aside { width: 26rem; flex: none; box-sizing: border-box; background: #fff; border-left: 1px solid #d0d7de; overflow: auto; padding: .5rem 1rem; font-size: .85rem; }
  aside h2 { font-size: 1.1rem; margin: .3rem 0 .5rem; word-break: break-word; }
  aside h3 { font-size: .95rem; margin: .8rem 0 .3rem; }
  aside dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .2rem .8rem; margin: 0; }
  aside dt { font-weight: 600; }
  aside dd { margin: 0; white-space: pre-wrap; word-break: break-word; }
  aside dd.stalled { color: #953800; font-weight: 600; }
  aside dd.late { color: #a40e26; font-weight: 600; }
  .node { cursor: pointer; }
  .node rect.box { stroke: #57606a; stroke-width: 1; }
  .node text { font-size: 11px; pointer-events: none; }
  .node rect.box.s-FAILED { stroke: #cf222e; stroke-width: 2; }
  .node rect.box.s-CANCELLED { stroke: #57606a; stroke-width: 1.5; stroke-dasharray: 5 3; }
  .node.stalled rect.box { stroke: #bc4c00; stroke-width: 2; stroke-dasharray: 6 3; }
  .node.stalled text.status { fill: #953800; font-weight: 600; }
  .node text.note { font-size: 10px; fill: #953800; }
  .node.selected rect.box { stroke: #0969da; stroke-width: 3; stroke-dasharray: none; }
  .edge { fill: none; stroke: #8c959f; stroke-width: 1.2; }
  .edge.branch-FAILED { stroke: #cf222e; stroke-width: 1.6; }
  .edge.branch-CANCELLED { stroke: #57606a; stroke-dasharray: 5 3; }
  .s-PENDING { fill: #eaeef2; background: #eaeef2; }
  .s-WAITING { fill: #fff8c5; background: #fff8c5; }
  .s-RUNNING { fill: #ddf4ff; background: #ddf4ff; }
  .s-COMPLETED { fill: #dafbe1; background: #dafbe1; }
  .s-FAILED { fill: #ff9492; background: #ff9492; }
  .s-CANCELLED { fill: #afb8c1; background: #afb8c1; }
  rect.bar-bg { fill: #fff; stroke: #8c959f; stroke-width: .5; }
  rect.bar { fill: #0969da; }
  #chart { padding: 0 1rem; background: #fff; border-bottom: 1px solid #d0d7de; font-size: .75rem; }
  #statechart svg { display: block; margin: .3rem 0; width: 100%; height: auto; }
  .sc-node rect { fill: #f6f8fa; stroke: #8c959f; stroke-width: 1; }
  .sc-node text { font-size: 11px; }
  .sc-node.current rect { fill: #0969da; stroke: #0550ae; stroke-width: 2; }
  .sc-node.current text { fill: #fff; font-weight: 600; }
  .sc-edge { fill: none; stroke: #afb8c1; stroke-width: 1; }
  table.attempts { border-collapse: collapse; width: 100%; }
  table.attempts td, table.attempts th { border-bottom: 1px solid #d0d7de; padding: .1rem .3rem; text-align: left; vertical-align: top; }
  ol.messages { margin: 0; padding-left: 1.2rem; }
`;

/** The page served at `/`: the header, chart, view and detail panel, and the scripts it loads from this server. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>taskchart dashboard</title>
<link rel="icon" type="image/svg+xml" href="/favicon.svg">
<link rel="stylesheet" href="/uplot.css">
<style>${STYLE}</style>
</head>
<body data-state-url="/api/state" data-events-url="/api/events" data-statechart-url="/api/statechart" data-task-url="/api/task/">
<header>
  <h1>taskchart</h1>
  <span id="counts"></span>
  <span class="count" id="throughput">0.0 finished/s</span>
  <span id="conn">connecting…</span>
</header>
<div id="chart" role="img" aria-label="tasks finished per second, last 60 s"></div>
<main>
  <div id="view">
    <div id="note"></div>
    <div id="graph"></div>
    <div id="list" hidden></div>
  </div>
  <aside id="detail"><p>Click a task to see its details.</p></aside>
</main>
<script src="/dagre.js"></script>
<script src="/uplot.js"></script>
<script src="/app.js"></script>
</body>
</html>
`;

/** The page's script, served as `/app.js`: one closure over the three fragments, started last. */
export const CLIENT_SCRIPT = `'use strict';
(function () {
${CORE_SCRIPT}
${VIEW_SCRIPT}
${DETAIL_SCRIPT}
${START_SCRIPT}
})();
`;
