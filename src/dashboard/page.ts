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
<link rel="stylesheet" href="/uplot.css">
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
  #chart { padding: 0 1rem; background: #fff; border-bottom: 1px solid #d0d7de; font-size: .75rem; }
  #statechart svg { display: block; margin: .3rem 0; }
  .sc-node rect { fill: #f6f8fa; stroke: #8c959f; stroke-width: 1; }
  .sc-node text { font-size: 10px; }
  .sc-node.current rect { fill: #0969da; stroke: #0550ae; stroke-width: 2; }
  .sc-node.current text { fill: #fff; font-weight: 600; }
  .sc-edge { fill: none; stroke: #afb8c1; stroke-width: 1; }
  table.attempts { border-collapse: collapse; width: 100%; }
  table.attempts td, table.attempts th { border-bottom: 1px solid #d0d7de; padding: .1rem .3rem; text-align: left; vertical-align: top; }
  ol.messages { margin: 0; padding-left: 1.2rem; }
</style>
</head>
<body data-state-url="/api/state" data-events-url="/api/events" data-statechart-url="/api/statechart" data-task-url="/api/task/">
<header>
  <h1>taskchart</h1>
  <span id="counts"></span>
  <span class="count" id="throughput">0.0 finished/s</span>
  <span id="conn">connecting…</span>
</header>
<div id="chart" title="tasks finished per second, last 60 s"></div>
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
  var finished = new Map(); // task id -> finish time (ms), last 60 s; keyed by id so snapshot + events never count twice
  var statechart = null, scEls = null, detailInfo = null, detailTimer = null;
  var chart = null;
  var STATE_OF_STATUS = { WAITING: 'waiting', RUNNING: 'running', COMPLETED: 'completed', FAILED: 'failed', CANCELLED: 'cancelled' };
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
    var now = Date.now(), recent = 0;
    finished.forEach(function (at, id) {
      if (at < now - 60000) finished.delete(id);
      else if (at >= now - 10000) recent++;
    });
    document.getElementById('throughput').textContent = (recent / 10).toFixed(1) + ' finished/s';
    renderChart(now);
  }

  // Finished tasks per second over the last minute (uPlot, served by this server as /uplot.js).
  function renderChart(now) {
    if (typeof uPlot === 'undefined') return;
    var end = Math.floor(now / 1000), xs = [], ys = [];
    for (var s = end - 59; s <= end; s++) { xs.push(s); ys.push(0); }
    finished.forEach(function (at) { var i = Math.floor(at / 1000) - (end - 59); if (i >= 0 && i < 60) ys[i]++; });
    if (!chart) {
      var box = document.getElementById('chart');
      chart = new uPlot({
        width: Math.max(300, Math.min(900, box.clientWidth - 32 || 600)), height: 110,
        legend: { show: false }, cursor: { show: false },
        scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
        axes: [{}, { size: 36 }],
        series: [{}, { label: 'finished/s', stroke: '#0969da', fill: 'rgba(9,105,218,0.12)', width: 1.5, points: { show: false } }],
      }, [xs, ys], box);
    } else {
      chart.setData([xs, ys]);
    }
  }

  function loadStatechart() {
    return fetch(body.dataset.statechartUrl).then(function (r) { return r.json(); }).then(function (sc) {
      statechart = sc;
      buildStatechart();
      renderDetail();
    }).catch(function () { setTimeout(loadStatechart, 2000); });
  }

  // An <svg> the size of a laid-out dagre graph, with an arrowhead marker for its edges.
  function laidOutSvg(g, markerId, markerSize, fill, cls) {
    var size = g.graph();
    var attrs = { width: Math.max(size.width || 0, 10), height: Math.max(size.height || 0, 10) };
    if (cls) attrs['class'] = cls;
    var root = svg('svg', attrs);
    var defs = svg('defs', {});
    var marker = svg('marker', { id: markerId, viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: markerSize, markerHeight: markerSize, orient: 'auto' });
    marker.appendChild(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: fill }));
    defs.appendChild(marker);
    root.appendChild(defs);
    return root;
  }

  // The path through a laid-out edge's points.
  function edgePath(g, e) {
    return (g.edge(e).points || []).map(function (p, i) { return (i ? 'L' : 'M') + p.x + ',' + p.y; }).join(' ');
  }

  // Lays the task machine out once (dagre, top to bottom); renderDetail re-attaches it and moves the highlight.
  function buildStatechart() {
    var W = 74, H = 22;
    var g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: 'TB', nodesep: 10, ranksep: 22, marginx: 4, marginy: 4 });
    g.setDefaultEdgeLabel(function () { return {}; });
    statechart.states.forEach(function (s) { g.setNode(s.name, { width: W, height: H }); });
    var pairs = {};
    statechart.transitions.forEach(function (t) {
      var key = t.source + '>' + t.target;
      if (pairs[key]) { pairs[key].push(t.event); return; }
      pairs[key] = [t.event];
      g.setEdge(t.source, t.target, {}, key);
    });
    dagre.layout(g);
    var root = laidOutSvg(g, 'sc-arrow', 5, '#afb8c1', 'statechart');
    g.edges().forEach(function (e) {
      var path = svg('path', { class: 'sc-edge', 'marker-end': 'url(#sc-arrow)', d: edgePath(g, e) });
      var title = svg('title', {});
      title.textContent = e.v + ' → ' + e.w + ': ' + pairs[e.name].join(', ');
      path.appendChild(title);
      root.appendChild(path);
    });
    scEls = new Map();
    statechart.states.forEach(function (s) {
      var n = g.node(s.name);
      var grp = svg('g', { class: 'sc-node', 'data-state': s.name, transform: 'translate(' + (n.x - W / 2) + ',' + (n.y - H / 2) + ')' });
      grp.appendChild(svg('rect', { width: W, height: H, rx: s.final ? 10 : 3 }));
      var text = svg('text', { x: W / 2, y: 15, 'text-anchor': 'middle' });
      text.textContent = s.name;
      var title = svg('title', {});
      title.textContent = s.name + ' (status ' + s.status + ')';
      grp.appendChild(title);
      grp.appendChild(text);
      root.appendChild(grp);
      scEls.set(s.name, grp);
    });
    var wrap = el('div');
    wrap.id = 'statechart';
    wrap.appendChild(root);
    statechart.el = wrap;
  }

  function duration(ms) {
    if (ms === null || ms === undefined || ms < 0) return '—';
    return ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  }
  function errorLine(err) {
    var lines = [];
    while (err) { lines.push(err.name + (err.code ? ' [' + err.code + ']' : '') + ': ' + err.message); err = err.cause; }
    return lines.join('\\ncaused by ');
  }

  function renderHistory(aside, t) {
    var info = detailInfo && detailInfo.task && detailInfo.task.id === t.id ? detailInfo : null;
    if (!info) return;
    aside.appendChild(el('h3', '', 'Attempts'));
    if (!info.attempts.length) aside.appendChild(el('p', '', 'none seen'));
    else {
      var table = el('table', 'attempts'), head = el('tr');
      ['#', 'outcome', 'duration', 'error'].forEach(function (h) { head.appendChild(el('th', '', h)); });
      table.appendChild(head);
      info.attempts.forEach(function (a) {
        var tr = el('tr', 'attempt');
        tr.appendChild(el('td', '', a.attempt));
        tr.appendChild(el('td', 'outcome', a.outcome));
        tr.appendChild(el('td', '', duration((a.endedAt === null ? Date.now() : a.endedAt) - a.startedAt) + (a.endedAt === null ? '…' : '')));
        tr.appendChild(el('td', 'error', a.error ? errorLine(a.error) : ''));
        table.appendChild(tr);
      });
      aside.appendChild(table);
    }
    aside.appendChild(el('h3', '', 'Progress messages'));
    if (!info.messages.length) aside.appendChild(el('p', '', 'none'));
    else {
      var ol = el('ol', 'messages');
      info.messages.forEach(function (m) { ol.appendChild(el('li', '', Math.round(m.progress * 100) + '% ' + m.message)); });
      aside.appendChild(ol);
    }
  }

  function loadDetail() {
    var id = selected, mark = applied;
    if (!id) return;
    fetch(body.dataset.taskUrl + encodeURIComponent(id), { cache: 'no-store' }).then(function (r) { return r.ok ? r.json() : null; }).then(function (info) {
      if (!info || selected !== id) return;
      detailInfo = info;
      var t = tasks.get(id);
      if (t && info.task) t.state = info.task.state;
      renderDetail();
      if (applied !== mark) scheduleDetail(300); // events came in meanwhile: this answer may be older than them
    }).catch(function () {});
  }
  function scheduleDetail(delay) {
    if (detailTimer) return;
    detailTimer = setTimeout(function () { detailTimer = null; loadDetail(); }, delay);
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
    row('state', t.state);
    row('priority', t.priority);
    row('progress', Math.round((t.progress || 0) * 100) + '%');
    row('message', t.message);
    row('attempts', t.attempts);
    row('dependencies', (t.dependencies || []).join(', '));
    var st = t.settings;
    if (st) {
      row('runs', st.kind === 'external' ? 'external (driven by the caller)' : st.executor + ' executor, ' + (st.kind === 'handler' ? 'handler ' + st.handler : st.kind === 'module' ? st.module : 'inline fn'));
      row('retries', st.maxRetries + (st.maxRetries ? ' (backoff from ' + st.retryDelay + ' ms)' : ''));
      row('timeout', st.timeout === null ? 'none' : st.timeout + ' ms per attempt');
      var res = Object.keys(st.resources).map(function (k) { return k + ': ' + st.resources[k]; }).join(', ');
      row('resources', res || 'none');
    }
    row('created', t.createdAt ? new Date(t.createdAt).toISOString() : null);
    row('started', t.startedAt ? new Date(t.startedAt).toISOString() : null);
    row('finished', t.finishedAt ? new Date(t.finishedAt).toISOString() : null);
    row('error', errorLine(t.error));
    aside.appendChild(dl);
    if (statechart && statechart.el) {
      aside.appendChild(el('h3', '', 'Statechart'));
      scEls.forEach(function (g, name) { g.classList.toggle('current', name === t.state); });
      aside.appendChild(statechart.el);
    }
    renderHistory(aside, t);
  }

  function select(id) {
    if (selected && nodeEls.has(selected)) nodeEls.get(selected).g.classList.remove('selected');
    if (selected !== id) detailInfo = null;
    selected = id;
    if (nodeEls.has(id)) nodeEls.get(id).g.classList.add('selected');
    renderDetail();
    scheduleRefresh(0);
    scheduleDetail(0);
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
    var root = laidOutSvg(g, 'arrow', 6, '#8c959f', '');
    g.edges().forEach(function (e) {
      root.appendChild(svg('path', { d: edgePath(g, e), class: 'edge', 'marker-end': 'url(#arrow)' }));
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

  // A snapshot fetched while events arrived may be older than them: then load again once it is quiet.
  var applied = 0;
  function load() {
    var mark = applied;
    return fetch(body.dataset.stateUrl, { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (state) {
      var before = Array.from(tasks.keys()).join('\\n');
      tasks.clear();
      var cutoff = Date.now() - 60000;
      state.tasks.forEach(function (t) {
        tasks.set(t.id, t);
        if (t.finishedAt && t.finishedAt >= cutoff && !finished.has(t.id)) finished.set(t.id, t.finishedAt);
      });
      layoutLimit = state.layoutLimit || layoutLimit;
      if (Array.from(tasks.keys()).join('\\n') !== before) scheduleLayout();
      else { tasks.forEach(styleNode); scheduleLight(); }
      if (applied !== mark) scheduleRefresh(300);
    }).catch(function () { scheduleRefresh(2000); });
  }

  function apply(ev) {
    applied++;
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
      t.state = STATE_OF_STATUS[ev.status] || t.state; // PENDING is pending, queued or retrying: /api/task tells
      if (ev.status === 'RUNNING') { t.attempts = (t.attempts || 0) + 1; t.progress = 0; }
      if (ev.error) t.error = ev.error;
      if (ev.status === 'COMPLETED' || ev.status === 'FAILED' || ev.status === 'CANCELLED') finished.set(ev.taskId, ev.timestamp || Date.now());
    } else if (ev.type === 'progress') {
      t.progress = ev.progress;
      if (ev.message !== null && ev.message !== undefined) t.message = ev.message;
    } else if (ev.type === 'retry') {
      t.error = ev.error;
    }
    styleNode(t);
    if (ev.taskId === selected) scheduleDetail(200);
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
  load().then(function () { connect(); loadStatechart(); });
})();
`;
