/**
 * The dashboard script's detail panel (a fragment of `/app.js`, see page.ts): the selected task's fields, the task
 * machine's statechart with the task's state highlighted (laid out once, drawn in a viewBox that scales to the
 * panel's width), its attempts and its last progress messages.
 */
/** The fragment that draws the detail panel and the task statechart. */
export const DETAIL_SCRIPT = `
  var statechart = null, scEls = null, detailInfo = null, detailTimer = null;

  function loadStatechart() {
    return fetch(body.dataset.statechartUrl).then(function (r) { return r.json(); }).then(function (sc) {
      statechart = sc;
      buildStatechart();
      renderDetail();
    }).catch(function () { setTimeout(loadStatechart, 2000); });
  }

  function statechartNode(root, s, n, w, h) {
    var grp = svg('g', { class: 'sc-node', 'data-state': s.name, transform: 'translate(' + (n.x - w / 2) + ',' + (n.y - h / 2) + ')' });
    grp.appendChild(svg('rect', { width: w, height: h, rx: s.final ? 10 : 3 }));
    var text = svg('text', { x: w / 2, y: h / 2 + 4, 'text-anchor': 'middle' });
    text.textContent = s.name;
    var title = svg('title', {});
    title.textContent = s.name + ' (status ' + s.status + ')';
    grp.appendChild(title);
    grp.appendChild(text);
    root.appendChild(grp);
    scEls.set(s.name, grp);
  }

  // Lays the task machine out once (dagre, top to bottom); renderDetail re-attaches it and moves the highlight.
  function buildStatechart() {
    var W = 80, H = 24;
    var g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: 'TB', nodesep: 12, edgesep: 6, ranksep: 24, marginx: 6, marginy: 6 });
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
    var root = laidOutSvg(g, { 'sc-arrow': '#afb8c1' }, 5, 'statechart');
    root.style.maxWidth = root.getAttribute('width') + 'px'; // scaled down to the panel, never up
    g.edges().forEach(function (e) {
      var path = svg('path', { class: 'sc-edge', 'marker-end': 'url(#sc-arrow)', d: edgePath(g, e) });
      var title = svg('title', {});
      title.textContent = e.v + ' → ' + e.w + ': ' + pairs[e.name].join(', ');
      path.appendChild(title);
      root.appendChild(path);
    });
    scEls = new Map();
    statechart.states.forEach(function (s) { statechartNode(root, s, g.node(s.name), W, H); });
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

  // A stalled attempt says so, with how long it went without a heartbeat; others give their outcome.
  function attemptOutcome(a) {
    if (!a.stalled) return a.outcome;
    return a.stalled.heartbeatTimeout === null ? 'stalled (no heartbeat)' : 'stalled (no heartbeat for ' + a.stalled.heartbeatTimeout + ' ms)';
  }

  function renderAttempts(aside, attempts) {
    aside.appendChild(el('h3', '', 'Attempts'));
    if (!attempts.length) { aside.appendChild(el('p', '', 'none seen')); return; }
    var table = el('table', 'attempts'), head = el('tr');
    ['#', 'outcome', 'duration', 'error'].forEach(function (h) { head.appendChild(el('th', '', h)); });
    table.appendChild(head);
    attempts.forEach(function (a) {
      var tr = el('tr', 'attempt');
      tr.appendChild(el('td', '', a.attempt));
      tr.appendChild(el('td', 'outcome', attemptOutcome(a)));
      tr.appendChild(el('td', '', duration((a.endedAt === null ? Date.now() : a.endedAt) - a.startedAt) + (a.endedAt === null ? '…' : '')));
      tr.appendChild(el('td', 'error', a.error ? errorLine(a.error) : ''));
      table.appendChild(tr);
    });
    aside.appendChild(table);
  }

  function renderHistory(aside, t) {
    var info = detailInfo && detailInfo.task && detailInfo.task.id === t.id ? detailInfo : null;
    if (!info) return;
    renderAttempts(aside, info.attempts);
    aside.appendChild(el('h3', '', 'Progress messages'));
    if (!info.messages.length) { aside.appendChild(el('p', '', 'none')); return; }
    var ol = el('ol', 'messages');
    info.messages.forEach(function (m) { ol.appendChild(el('li', '', Math.round(m.progress * 100) + '% ' + m.message)); });
    aside.appendChild(ol);
  }

  function loadDetail() {
    var id = selected, mark = applied;
    if (!id) return;
    fetch(body.dataset.taskUrl + encodeURIComponent(id), { cache: 'no-store' }).then(function (r) { return r.ok ? r.json() : null; }).then(function (info) {
      if (!info || selected !== id) return;
      detailInfo = info;
      var t = tasks.get(id);
      if (t && info.task) { t.state = info.task.state; setStalled(t, info.task.stalled); styleNode(t); }
      renderDetail();
      if (applied !== mark) scheduleDetail(300); // events came in meanwhile: this answer may be older than them
    }).catch(function () {});
  }
  function scheduleDetail(delay) {
    if (detailTimer) return;
    detailTimer = setTimeout(function () { detailTimer = null; loadDetail(); }, delay);
  }

  function settingsRows(row, st) {
    row('runs', st.kind === 'external' ? 'external (driven by the caller)' : st.executor + ' executor, ' + (st.kind === 'handler' ? 'handler ' + st.handler : st.kind === 'module' ? st.module : 'inline fn'));
    row('retries', st.maxRetries + (st.maxRetries ? ' (backoff from ' + st.retryDelay + ' ms)' : ''));
    row('timeout', st.timeout === null ? 'none' : st.timeout + ' ms per attempt');
    var res = Object.keys(st.resources).map(function (k) { return k + ': ' + st.resources[k]; }).join(', ');
    row('resources', res || 'none');
    if (st.trigger) row('trigger rule', st.trigger);
  }

  /** Why a started task is not running: the dependencies it waits for, or the per-key limit holding it, and until when. */
  function waitingText(w) {
    if (!w) return null;
    if (w.limit) return 'limit ' + w.limit.limiter + ' ' + w.limit.key + (w.limit.until === null ? ' (until one of its tasks ends)' : ' until ' + new Date(w.limit.until).toISOString());
    return w.dependencies.length ? 'dependencies ' + w.dependencies.map(taskLabel).join(', ') : null;
  }

  // Heartbeats, the results cache, the deadline and free re-runs (long and repeated work), each when it applies.
  // The detail answer is fresher than the page's copy, which events keep current for 'cached' and the deadline.
  function longRows(row, t, info, history) {
    var task = info || t;
    if (known(task.lastHeartbeatAt)) row('last heartbeat', new Date(task.lastHeartbeatAt).toISOString());
    if (task.cached || t.cached) row('cache', 'from cache (no attempt ran)');
    else if (history && history.cacheSkipped) row('cache', 'skipped, ran uncached: ' + errorLine(history.cacheSkipped));
    var missed = known(task.deadlineMissedAt) ? task.deadlineMissedAt : t.deadlineMissedAt;
    if (known(missed)) row('deadline', 'deadline missed at ' + new Date(missed).toISOString(), 'late');
    if (task.interruptions) row('interruptions', task.interruptions + ' (re-run free after a process death)');
    if (task.crashes) row('crashes', task.crashes + ' (re-run free after a worker process died)');
  }
  function known(ms) { return ms !== null && ms !== undefined; }

  function renderDetail() {
    var aside = document.getElementById('detail');
    clear(aside);
    var t = selected && tasks.get(selected);
    if (!t) { aside.appendChild(el('p', '', 'Click a task to see its details.')); return; }
    aside.appendChild(el('h2', '', t.name));
    var dl = el('dl');
    function row(k, v, cls) { dl.appendChild(el('dt', '', k)); dl.appendChild(el('dd', cls || '', v === null || v === undefined || v === '' ? '—' : v)); }
    row('id', t.id);
    row('status', t.stalled ? t.status + ' (stalled)' : t.status);
    if (t.stalled) row('stalled', stalledText(t), 'stalled');
    row('state', t.state);
    row('priority', priorityName(t.priority));
    row('progress', percent(t));
    row('message', t.message);
    row('attempts', t.attempts);
    row('dependencies', (t.dependencies || []).map(taskLabel).join(', '));
    var history = detailInfo && detailInfo.task && detailInfo.task.id === t.id ? detailInfo : null;
    var info = history ? history.task : null;
    longRows(row, t, info, history);
    if (info && info.waitingOn) row('waiting on', waitingText(info.waitingOn));
    if (info && info.limits && info.limits.length) row('limits', info.limits.map(function (c) { return c.limiter + ' ' + c.key + (c.cost === 1 ? '' : ' (cost ' + c.cost + ')'); }).join(', '));
    if (t.settings) settingsRows(row, t.settings);
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
`;
