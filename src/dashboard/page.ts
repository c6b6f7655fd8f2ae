/**
 * The dashboard page: HTML with inline CSS, and the client script served as
 * `/app.js` (the page's Content-Security-Policy allows scripts from the
 * server only). Kept as strings so they ship in dist with no build step.
 *
 * Escaping rule: the client script never uses innerHTML (or outerHTML,
 * insertAdjacentHTML, document.write). Every task name, message and error is
 * inserted with textContent / createTextNode.
 */

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>taskchart dashboard</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1f2328; background: #f6f8fa; }
  body { margin: 0; display: flex; flex-direction: column; height: 100vh; }
  header { display: flex; gap: 1rem; align-items: center; padding: .5rem 1rem; background: #fff; border-bottom: 1px solid #d0d7de; flex-wrap: wrap; }
  header h1 { font-size: 1rem; margin: 0 1rem 0 0; }
  .count { padding: .15rem .5rem; border-radius: 1rem; font-size: .85rem; border: 1px solid #d0d7de; }
  #conn { margin-left: auto; font-size: .8rem; color: #57606a; }
  main { flex: 1; display: flex; min-height: 0; }
  #view { flex: 1; overflow: auto; position: relative; }
  #graph svg { display: block; }
  #list table { border-collapse: collapse; width: 100%; font-size: .85rem; }
  #list td, #list th { border-bottom: 1px solid #d0d7de; padding: .2rem .5rem; text-align: left; }
  #list tr { cursor: pointer; }
  #note { padding: .5rem 1rem; color: #57606a; font-size: .85rem; }
  aside { width: 22rem; background: #fff; border-left: 1px solid #d0d7de; overflow: auto; padding: .5rem 1rem; font-size: .85rem; }
  aside dt { font-weight: 600; margin-top: .4rem; }
  aside dd { margin: 0; white-space: pre-wrap; word-break: break-word; }
  .node { cursor: pointer; }
  .node rect.box { stroke: #57606a; stroke-width: 1; }
  .node text { font-size: 11px; pointer-events: none; }
  .node.selected rect.box { stroke: #0969da; stroke-width: 3; }
  .edge { fill: none; stroke: #8c959f; stroke-width: 1.2; }
  .s-PENDING { fill: #eaeef2; background: #eaeef2; }
  .s-WAITING { fill: #fff8c5; background: #fff8c5; }
  .s-RUNNING { fill: #ddf4ff; background: #ddf4ff; }
  .s-COMPLETED { fill: #dafbe1; background: #dafbe1; }
  .s-FAILED { fill: #ffebe9; background: #ffebe9; }
  .s-CANCELLED { fill: #d0d7de; background: #d0d7de; }
  rect.bar-bg { fill: #fff; stroke: #8c959f; stroke-width: .5; }
  rect.bar { fill: #0969da; }
</style>
</head>
<body data-state-url="/api/state" data-events-url="/api/events">
<header>
  <h1>taskchart</h1>
  <span id="counts"></span>
  <span class="count" id="throughput">0.0 finished/s</span>
  <span id="conn">connecting…</span>
</header>
<main>
  <div id="view">
    <div id="note"></div>
    <div id="graph"></div>
    <div id="list" hidden></div>
  </div>
  <aside id="detail"><p>Click a task to see its details.</p></aside>
</main>
<script src="/dagre.js"></script>
<script src="/app.js"></script>
</body>
</html>
`;

export const CLIENT_SCRIPT = `'use strict';
(function () {
  var STATUSES = ['PENDING', 'WAITING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'];
  var SVG = 'http://www.w3.org/2000/svg';
  var NODE_W = 170, NODE_H = 46, LIST_ROWS = 1000;
  var body = document.body;
  var tasks = new Map();
  var layoutLimit = 2000;
  var nodeEls = new Map();
  var selected = null;
  var finishedTimes = [];
  var layoutTimer = null, refreshTimer = null, renderTimer = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function short(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + '…' : s; }

  // Counts are derived from the tasks' statuses each time (never kept incrementally: a snapshot and the
  // events around it would be counted twice).
  function renderCounts() {
    var box = document.getElementById('counts');
    clear(box);
    var counts = {};
    tasks.forEach(function (t) { counts[t.status] = (counts[t.status] || 0) + 1; });
    STATUSES.forEach(function (s) {
      box.appendChild(el('span', 'count s-' + s, s + ' ' + (counts[s] || 0)));
      box.appendChild(document.createTextNode(' '));
    });
    var now = Date.now();
    while (finishedTimes.length && finishedTimes[0] < now - 10000) finishedTimes.shift();
    document.getElementById('throughput').textContent = (finishedTimes.length / 10).toFixed(1) + ' finished/s';
  }

  function renderDetail() {
    var aside = document.getElementById('detail');
    clear(aside);
    var t = selected && tasks.get(selected);
    if (!t) { aside.appendChild(el('p', '', 'Click a task to see its details.')); return; }
    aside.appendChild(el('h2', '', t.name));
    var dl = el('dl');
    function row(k, v) { dl.appendChild(el('dt', '', k)); dl.appendChild(el('dd', '', v === null || v === undefined || v === '' ? '—' : v)); }
    row('id', t.id);
    row('status', t.status);
    row('priority', t.priority);
    row('progress', Math.round((t.progress || 0) * 100) + '%');
    row('message', t.message);
    row('attempts', t.attempts);
    row('dependencies', (t.dependencies || []).join(', '));
    row('created', t.createdAt ? new Date(t.createdAt).toISOString() : null);
    row('started', t.startedAt ? new Date(t.startedAt).toISOString() : null);
    row('finished', t.finishedAt ? new Date(t.finishedAt).toISOString() : null);
    var err = t.error, lines = [];
    while (err) { lines.push(err.name + (err.code ? ' [' + err.code + ']' : '') + ': ' + err.message); err = err.cause; }
    row('error', lines.join('\\ncaused by '));
    aside.appendChild(dl);
  }

  function select(id) {
    if (selected && nodeEls.has(selected)) nodeEls.get(selected).g.classList.remove('selected');
    selected = id;
    if (nodeEls.has(id)) nodeEls.get(id).g.classList.add('selected');
    renderDetail();
    scheduleRefresh(0);
  }

  function styleNode(t) {
    var n = nodeEls.get(t.id);
    if (!n) return;
    n.box.setAttribute('class', 'box s-' + t.status);
    var retries = t.attempts > 1 ? '  ↻' + (t.attempts - 1) : '';
    n.status.textContent = t.status + retries;
    var running = t.status === 'RUNNING';
    n.barBg.style.display = running ? '' : 'none';
    n.bar.style.display = running ? '' : 'none';
    n.bar.setAttribute('width', String(Math.max(0, Math.min(1, t.progress || 0)) * (NODE_W - 16)));
  }

  function renderGraph() {
    var graph = document.getElementById('graph');
    clear(graph);
    nodeEls.clear();
    var g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'LR', nodesep: 16, ranksep: 48, marginx: 12, marginy: 12 });
    g.setDefaultEdgeLabel(function () { return {}; });
    tasks.forEach(function (t) { g.setNode(t.id, { width: NODE_W, height: NODE_H }); });
    tasks.forEach(function (t) {
      (t.dependencies || []).forEach(function (d) { if (tasks.has(d)) g.setEdge(d, t.id); });
    });
    dagre.layout(g);
    var size = g.graph();
    var root = svg('svg', { width: Math.max(size.width || 0, 10), height: Math.max(size.height || 0, 10) });
    var defs = svg('defs', {});
    var marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto' });
    marker.appendChild(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#8c959f' }));
    defs.appendChild(marker);
    root.appendChild(defs);
    g.edges().forEach(function (e) {
      var pts = g.edge(e).points || [];
      var d = pts.map(function (p, i) { return (i ? 'L' : 'M') + p.x + ',' + p.y; }).join(' ');
      root.appendChild(svg('path', { d: d, class: 'edge', 'marker-end': 'url(#arrow)' }));
    });
    g.nodes().forEach(function (id) {
      var t = tasks.get(id), n = g.node(id);
      var x = n.x - NODE_W / 2, y = n.y - NODE_H / 2;
      var grp = svg('g', { class: 'node', transform: 'translate(' + x + ',' + y + ')' });
      var box = svg('rect', { class: 'box', width: NODE_W, height: NODE_H, rx: 6 });
      var title = svg('title', {});
      title.textContent = t.name + ' (' + t.id + ')';
      var name = svg('text', { x: 8, y: 16 });
      name.textContent = short(t.name, 26);
      var status = svg('text', { x: 8, y: 30 });
      var barBg = svg('rect', { class: 'bar-bg', x: 8, y: 35, width: NODE_W - 16, height: 5 });
      var bar = svg('rect', { class: 'bar', x: 8, y: 35, width: 0, height: 5 });
      grp.appendChild(box); grp.appendChild(title); grp.appendChild(name); grp.appendChild(status); grp.appendChild(barBg); grp.appendChild(bar);
      grp.addEventListener('click', function () { select(id); });
      root.appendChild(grp);
      nodeEls.set(id, { g: grp, box: box, status: status, bar: bar, barBg: barBg });
      styleNode(t);
      if (id === selected) grp.classList.add('selected');
    });
    graph.appendChild(root);
  }

  function renderList() {
    var list = document.getElementById('list');
    clear(list);
    var table = el('table'), head = el('tr');
    ['status', 'name', 'id', 'progress', 'attempts'].forEach(function (h) { head.appendChild(el('th', '', h)); });
    table.appendChild(head);
    var rows = Array.from(tasks.values());
    var rank = { RUNNING: 0, FAILED: 1, WAITING: 2, PENDING: 3, CANCELLED: 4, COMPLETED: 5 };
    rows.sort(function (a, b) { return rank[a.status] - rank[b.status]; });
    rows.slice(0, LIST_ROWS).forEach(function (t) {
      var tr = el('tr', 's-' + t.status);
      tr.appendChild(el('td', '', t.status));
      tr.appendChild(el('td', '', t.name));
      tr.appendChild(el('td', '', t.id));
      tr.appendChild(el('td', '', Math.round((t.progress || 0) * 100) + '%'));
      tr.appendChild(el('td', '', t.attempts));
      tr.addEventListener('click', function () { select(t.id); });
      table.appendChild(tr);
    });
    list.appendChild(table);
    if (rows.length > LIST_ROWS) list.appendChild(el('p', '', '… and ' + (rows.length - LIST_ROWS) + ' more'));
  }

  function large() { return tasks.size > layoutLimit; }

  function render() {
    var note = document.getElementById('note');
    var graph = document.getElementById('graph'), list = document.getElementById('list');
    if (large()) {
      note.textContent = tasks.size + ' tasks: more than ' + layoutLimit + ', so the graph is not laid out; showing a list.';
      graph.hidden = true; list.hidden = false;
      renderList();
    } else {
      note.textContent = tasks.size === 0 ? 'No tasks yet (tasks registered before the dashboard started are shown only when given as taskIds).' : '';
      graph.hidden = false; list.hidden = true;
      renderGraph();
    }
    renderCounts();
    renderDetail();
  }

  function scheduleLayout() {
    if (layoutTimer) return;
    layoutTimer = setTimeout(function () { layoutTimer = null; render(); }, 250);
  }
  function scheduleLight() {
    if (renderTimer) return;
    renderTimer = setTimeout(function () {
      renderTimer = null;
      renderCounts();
      if (large()) renderList();
      renderDetail();
    }, 250);
  }
  function scheduleRefresh(delay) {
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () { refreshTimer = null; load(); }, delay);
  }

  function load() {
    return fetch(body.dataset.stateUrl, { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (state) {
      var before = Array.from(tasks.keys()).join('\\n');
      tasks.clear();
      state.tasks.forEach(function (t) { tasks.set(t.id, t); });
      layoutLimit = state.layoutLimit || layoutLimit;
      if (Array.from(tasks.keys()).join('\\n') !== before) scheduleLayout();
      else { tasks.forEach(styleNode); scheduleLight(); }
    }).catch(function () { scheduleRefresh(2000); });
  }

  function apply(ev) {
    var t = tasks.get(ev.taskId);
    if (ev.type === 'registered') {
      if (!t) tasks.set(ev.taskId, { id: ev.taskId, name: ev.name, status: 'PENDING', priority: 1, progress: 0, message: null, attempts: 0, dependencies: [], error: null });
      scheduleRefresh(300); // dependencies come with /api/state
      scheduleLayout();
      return;
    }
    if (!t) { scheduleRefresh(300); return; }
    if (ev.type === 'status') {
      t.status = ev.status;
      if (ev.status === 'RUNNING') { t.attempts = (t.attempts || 0) + 1; t.progress = 0; }
      if (ev.error) t.error = ev.error;
      if (ev.status === 'COMPLETED' || ev.status === 'FAILED' || ev.status === 'CANCELLED') finishedTimes.push(Date.now());
    } else if (ev.type === 'progress') {
      t.progress = ev.progress;
      if (ev.message !== null && ev.message !== undefined) t.message = ev.message;
    } else if (ev.type === 'retry') {
      t.error = ev.error;
    }
    styleNode(t);
  }

  function connect() {
    var source = new EventSource(body.dataset.eventsUrl);
    var conn = document.getElementById('conn');
    source.onopen = function () { conn.textContent = 'live'; load(); };
    source.onerror = function () { conn.textContent = 'reconnecting…'; };
    source.onmessage = function (msg) {
      var batch;
      try { batch = JSON.parse(msg.data); } catch (e) { return; }
      if (!Array.isArray(batch)) return;
      batch.forEach(apply);
      scheduleLight();
      if (selected) scheduleRefresh(1000);
    };
    source.addEventListener('resync', function () { scheduleRefresh(0); });
  }

  setInterval(renderCounts, 1000);
  load().then(connect);
})();
`;
