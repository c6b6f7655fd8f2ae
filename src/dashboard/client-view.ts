/**
 * The dashboard script's views (a fragment of `/app.js`, see page.ts): the counts in the header, the
 * finished-tasks chart (uPlot), the DAG (dagre, left to right, fitted to the view down to a legible scale, then
 * scrolled) and, above the layout limit, the list.
 *
 * Invariant: `nodeEls` holds exactly the nodes of the graph on the page, each with the edges drawn into and out
 * of it, so that a status event restyles a node and its edges without a new layout.
 */
/** The fragment that draws the counts, chart, graph and list. */
export const VIEW_SCRIPT = `
  var NODE_W = 170, NODE_H = 46, LIST_ROWS = 1000;
  var MIN_SCALE = 0.6; // below this the graph's text is not legible: the view scrolls instead
  var CHART_H = 140;
  var Y_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
  var nodeEls = new Map();
  var graphSize = null;
  var chart = null;

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
    if (stalled.size) {
      var badge = el('span', 'count stalled', 'STALLED ' + stalled.size);
      badge.title = 'started, but waiting on tasks that were never started';
      box.appendChild(badge);
    }
    statBadges(box);
    var now = Date.now(), recent = 0;
    finished.forEach(function (at, id) {
      if (at < now - 60000) finished.delete(id);
      else if (at >= now - 10000) recent++;
    });
    document.getElementById('throughput').textContent = (recent / 10).toFixed(1) + ' finished/s';
    renderChart(now);
  }

  // The engine's own counts since it was created (getStats), each shown only when it is not zero.
  var STAT_BADGES = [
    ['deadlinesMissed', 'deadlines missed', 'late', 'tasks not finished by their deadline (they kept running)'],
    ['stalledAttempts', 'stalled attempts', 'late', 'attempts that sent no heartbeat for their heartbeatTimeout (failed, retried like a timeout)'],
    ['cacheHits', 'from cache', 'cached', 'tasks completed from the results cache, without running'],
  ];
  function statBadges(box) {
    if (!engineStats) return;
    STAT_BADGES.forEach(function (b) {
      var n = engineStats[b[0]];
      if (!n) return;
      var badge = el('span', 'count stat ' + b[2], b[1] + ' ' + n);
      badge.dataset.stat = b[0];
      badge.title = b[3];
      box.appendChild(badge);
      box.appendChild(document.createTextNode(' '));
    });
  }

  function two(n) { return (n < 10 ? '0' : '') + n; }
  function clock(seconds) {
    var d = new Date(seconds * 1000);
    return two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
  }
  function chartWidth() { return Math.max(300, document.getElementById('chart').clientWidth - 32); }
  // The y axis: whole tasks per second, from 0; its tick labels also describe the chart to screen readers.
  function yAxis() {
    return {
      label: 'finished/s', labelSize: 18, size: 44, incrs: Y_INCRS,
      values: function (u, splits) {
        var labels = splits.map(function (v) { return String(v); });
        document.getElementById('chart').setAttribute('aria-label', 'tasks finished per second, last 60 s; scale ' + labels.join(', '));
        return labels;
      },
    };
  }
  function chartOptions() {
    return {
      width: chartWidth(), height: CHART_H, padding: [10, 36, 0, 0],
      legend: { show: false }, cursor: { show: false },
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(4, Math.ceil(max * 1.2))]; } } },
      axes: [{ space: 80, size: 32, values: function (u, splits) { return splits.map(clock); } }, yAxis()],
      series: [{}, { label: 'finished/s', stroke: '#0969da', fill: 'rgba(9,105,218,0.12)', width: 1.5, points: { show: false } }],
    };
  }

  // Finished tasks per second over the last minute (uPlot, served by this server as /uplot.js), as wide as the page.
  function renderChart(now) {
    if (typeof uPlot === 'undefined') return;
    var end = Math.floor(now / 1000), xs = [], ys = [];
    for (var s = end - 59; s <= end; s++) { xs.push(s); ys.push(0); }
    finished.forEach(function (at) { var i = Math.floor(at / 1000) - (end - 59); if (i >= 0 && i < 60) ys[i]++; });
    if (!chart) chart = new uPlot(chartOptions(), [xs, ys], document.getElementById('chart'));
    else chart.setData([xs, ys]);
  }
  function resizeChart() { if (chart) chart.setSize({ width: chartWidth(), height: CHART_H }); }

  // An <svg> the size of a laid-out dagre graph (drawn in its viewBox), with arrowhead markers for its edges.
  function laidOutSvg(g, markers, markerSize, cls) {
    var size = g.graph();
    var w = Math.max(size.width || 0, 10), h = Math.max(size.height || 0, 10);
    var attrs = { width: w, height: h, viewBox: '0 0 ' + w + ' ' + h };
    if (cls) attrs['class'] = cls;
    var root = svg('svg', attrs);
    var defs = svg('defs', {});
    Object.keys(markers).forEach(function (id) {
      var marker = svg('marker', { id: id, viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: markerSize, markerHeight: markerSize, orient: 'auto' });
      marker.appendChild(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: markers[id] }));
      defs.appendChild(marker);
    });
    root.appendChild(defs);
    return root;
  }

  // The path through a laid-out edge's points.
  function edgePath(g, e) {
    return (g.edge(e).points || []).map(function (p, i) { return (i ? 'L' : 'M') + p.x + ',' + p.y; }).join(' ');
  }

  var EDGE_MARKER = { FAILED: 'arrow-FAILED', CANCELLED: 'arrow-CANCELLED' };
  function styleNode(t) {
    var n = nodeEls.get(t.id);
    if (!n) return;
    n.box.setAttribute('class', 'box s-' + t.status);
    n.g.classList.toggle('stalled', !!t.stalled);
    var retries = t.attempts > 1 ? '  ↻' + (t.attempts - 1) : '';
    n.status.textContent = t.stalled ? 'STALLED: never-started' : t.status + retries;
    n.note.textContent = t.stalled ? short(t.stalled.map(taskLabel).join(', '), 28) : ''; // where the bar is: a stalled task is not running
    var running = t.status === 'RUNNING';
    n.barBg.style.display = running ? '' : 'none';
    n.bar.style.display = running ? '' : 'none';
    n.bar.setAttribute('width', String(Math.max(0, Math.min(1, t.progress || 0)) * (NODE_W - 16)));
    n.edges.forEach(styleEdge);
  }

  // A failed or cancelled branch is drawn in its colour: an edge along which a failure or cancellation passed
  // (both ends FAILED, or both CANCELLED) takes it; an edge from a task that completed stays grey.
  function styleEdge(e) {
    var from = tasks.get(e.from), to = tasks.get(e.to);
    var branch = from && to && from.status === to.status && EDGE_MARKER[to.status] ? to.status : null;
    e.path.setAttribute('class', branch ? 'edge branch-' + branch : 'edge');
    e.path.setAttribute('marker-end', 'url(#' + (branch ? EDGE_MARKER[branch] : 'arrow') + ')');
  }

  function drawNode(root, id, n) {
    var t = tasks.get(id);
    var grp = svg('g', { class: 'node', transform: 'translate(' + (n.x - NODE_W / 2) + ',' + (n.y - NODE_H / 2) + ')' });
    var box = svg('rect', { class: 'box', width: NODE_W, height: NODE_H, rx: 6 });
    var title = svg('title', {});
    title.textContent = t.name + ' (' + t.id + ')';
    var name = svg('text', { x: 8, y: 16 });
    name.textContent = short(t.name, 26);
    var status = svg('text', { x: 8, y: 30, class: 'status' });
    var barBg = svg('rect', { class: 'bar-bg', x: 8, y: 35, width: NODE_W - 16, height: 5 });
    var bar = svg('rect', { class: 'bar', x: 8, y: 35, width: 0, height: 5 });
    var note = svg('text', { x: 8, y: 41, class: 'note' });
    [box, title, name, status, barBg, bar, note].forEach(function (child) { grp.appendChild(child); });
    grp.addEventListener('click', function () { select(id); });
    root.appendChild(grp);
    if (id === selected) grp.classList.add('selected');
    return { g: grp, box: box, status: status, note: note, bar: bar, barBg: barBg, edges: [] };
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
    var root = laidOutSvg(g, { arrow: '#8c959f', 'arrow-FAILED': '#cf222e', 'arrow-CANCELLED': '#57606a' }, 6, '');
    var edges = g.edges().map(function (e) {
      var path = svg('path', { d: edgePath(g, e), class: 'edge', 'marker-end': 'url(#arrow)' });
      root.appendChild(path);
      return { from: e.v, to: e.w, path: path };
    });
    g.nodes().forEach(function (id) { nodeEls.set(id, drawNode(root, id, g.node(id))); });
    edges.forEach(function (e) { nodeEls.get(e.from).edges.push(e); nodeEls.get(e.to).edges.push(e); });
    tasks.forEach(styleNode);
    graphSize = { width: Number(root.getAttribute('width')), height: Number(root.getAttribute('height')) };
    graph.appendChild(root);
    fitGraph();
  }

  // Shrinks the graph to fit the view, but not below MIN_SCALE: a larger graph scrolls (both ways) instead.
  function fitGraph() {
    var root = document.querySelector('#graph svg');
    if (!root || !graphSize) return;
    var view = document.getElementById('view'), note = document.getElementById('note');
    var aw = view.clientWidth - 2, ah = view.clientHeight - note.offsetHeight - 2;
    var scale = Math.max(MIN_SCALE, Math.min(1, aw / graphSize.width, ah / graphSize.height));
    root.setAttribute('width', String(Math.floor(graphSize.width * scale)));
    root.setAttribute('height', String(Math.floor(graphSize.height * scale)));
    root.dataset.scale = scale.toFixed(2);
  }

  function renderList() {
    var list = document.getElementById('list');
    clear(list);
    var table = el('table'), head = el('tr');
    ['status', 'name', 'id', 'priority', 'progress', 'attempts', 'note'].forEach(function (h) { head.appendChild(el('th', '', h)); });
    table.appendChild(head);
    var rows = Array.from(tasks.values());
    var rank = { RUNNING: 0, FAILED: 1, WAITING: 3, PENDING: 4, CANCELLED: 5, COMPLETED: 6 };
    function rankOf(t) { return t.stalled ? 2 : rank[t.status]; } // stalled tasks need a start: near the top
    rows.sort(function (a, b) { return rankOf(a) - rankOf(b); });
    rows.slice(0, LIST_ROWS).forEach(function (t) {
      var tr = el('tr', 's-' + t.status + (t.stalled ? ' stalled' : ''));
      tr.appendChild(el('td', '', t.stalled ? t.status + ' (stalled)' : t.status));
      tr.appendChild(el('td', '', t.name));
      tr.appendChild(el('td', '', t.id));
      tr.appendChild(el('td', '', priorityName(t.priority)));
      tr.appendChild(el('td', '', percent(t)));
      tr.appendChild(el('td', '', t.attempts));
      tr.appendChild(el('td', 'note', stalledText(t) || t.message || ''));
      tr.addEventListener('click', function () { select(t.id); });
      table.appendChild(tr);
    });
    list.appendChild(table);
    if (rows.length > LIST_ROWS) list.appendChild(el('p', '', '… and ' + (rows.length - LIST_ROWS) + ' more'));
  }
`;
