/**
 * The dashboard script's core (a fragment of `/app.js`, see page.ts): the page's copy of the tasks, how
 * `/api/state` and the event stream update it, and the helpers every view uses to show a task the same way
 * (progress, priority name, stalled note).
 *
 * Invariant: `stalled` holds exactly the ids of tasks whose `stalled` field is a non-empty list.
 */
import { TaskPriority } from '../status.js';

const PRIORITY_NAMES = Object.fromEntries(Object.entries(TaskPriority).map(([name, value]) => [value, name]));

/** The fragment that holds the page's state: tasks, stalls, the snapshot and event stream, and shared helpers. */
export const CORE_SCRIPT = `
  var STATUSES = ['PENDING', 'WAITING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'];
  var PRIORITY_NAMES = ${JSON.stringify(PRIORITY_NAMES)};
  var NORMAL_PRIORITY = ${TaskPriority.NORMAL};
  var SVG = 'http://www.w3.org/2000/svg';
  var body = document.body;
  var tasks = new Map();
  var stalled = new Set();
  var layoutLimit = 2000;
  var selected = null;
  var finished = new Map(); // task id -> finish time (ms), last 60 s; keyed by id so snapshot + events never count twice
  var STATE_OF_STATUS = { WAITING: 'waiting', RUNNING: 'running', COMPLETED: 'completed', FAILED: 'failed', CANCELLED: 'cancelled' };
  var layoutTimer = null, refreshTimer = null, renderTimer = null;
  var laidOut = null; // graphKey() of the tasks as the graph (or list) was last rendered
  var applied = 0;
  var engineStats = null; // engine.getStats() from the last /api/state: cache hits, missed deadlines, stalled attempts

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

  // A COMPLETED task is done whatever its last reported progress was.
  function percent(t) {
    var p = t.status === 'COMPLETED' ? 1 : Math.max(0, Math.min(1, t.progress || 0));
    return Math.round(p * 100) + '%';
  }
  function priorityName(p) { return Object.prototype.hasOwnProperty.call(PRIORITY_NAMES, p) ? PRIORITY_NAMES[p] : String(p); }
  // A task by its name, and its id too when that differs.
  function taskLabel(id) {
    var t = tasks.get(id);
    return t && t.name !== id ? t.name + ' (' + id + ')' : id;
  }
  function stalledText(t) {
    return t.stalled ? 'waiting on never-started ' + t.stalled.map(taskLabel).join(', ') : null;
  }
  function setStalled(t, waitingOn) {
    t.stalled = waitingOn && waitingOn.length ? waitingOn.slice() : null;
    if (t.stalled) stalled.add(t.id); else stalled.delete(t.id);
  }
  // A task whose status changed has been started: no task waits on it as never started any more.
  function startedTask(id) {
    stalled.forEach(function (sid) {
      var s = tasks.get(sid);
      if (!s || !s.stalled) { stalled.delete(sid); return; }
      var rest = s.stalled.filter(function (d) { return d !== id; });
      if (rest.length !== s.stalled.length) { setStalled(s, rest); styleNode(s); }
    });
  }

  function large() { return tasks.size > layoutLimit; }

  function render() {
    laidOut = graphKey();
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

  // What the graph's layout depends on: the tasks and their dependencies (a task known from its registered event
  // has none until /api/state gives them).
  function graphKey() {
    var key = [];
    tasks.forEach(function (t) { key.push(t.id + '<' + (t.dependencies || []).join('<')); });
    return key.join('\\n');
  }

  // A snapshot fetched while events arrived may be older than them: then load again once it is quiet. The graph is
  // laid out again when its tasks or dependencies differ from those last drawn (a task first known from its
  // registered event is drawn once a snapshot has it, even when it has no dependencies to change the key).
  function load() {
    var mark = applied;
    return fetch(body.dataset.stateUrl, { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (state) {
      tasks.clear();
      stalled.clear();
      var cutoff = Date.now() - 60000;
      state.tasks.forEach(function (t) {
        tasks.set(t.id, t);
        setStalled(t, t.stalled);
        if (t.finishedAt && t.finishedAt >= cutoff && !finished.has(t.id)) finished.set(t.id, t.finishedAt);
      });
      layoutLimit = state.layoutLimit || layoutLimit;
      engineStats = state.stats || null;
      if (graphKey() !== laidOut) scheduleLayout();
      else { tasks.forEach(styleNode); scheduleLight(); }
      if (applied !== mark) scheduleRefresh(300);
    }).catch(function () { scheduleRefresh(2000); });
  }

  function applyStatus(t, ev) {
    t.status = ev.status;
    t.state = STATE_OF_STATUS[ev.status] || t.state; // PENDING is pending, queued or retrying: /api/task tells
    if (ev.status === 'RUNNING') { t.attempts = (t.attempts || 0) + 1; t.progress = 0; }
    if (ev.error) t.error = ev.error;
    if (ev.cached) t.cached = true;
    if (ev.status === 'COMPLETED' || ev.status === 'FAILED' || ev.status === 'CANCELLED') finished.set(ev.taskId, ev.timestamp || Date.now());
    setStalled(t, null);
    if (stalled.size) startedTask(t.id);
  }

  // Events that change the engine's numbers the header shows (cache hits, missed deadlines, stalled attempts):
  // those numbers come with /api/state, never counted here (a snapshot and the events around it would count twice),
  // reloaded within a second (not sooner: a run of cached completions would reload a large state many times).
  function changesStats(ev) {
    var code = ev.error && ev.error.code;
    return ev.type === 'deadline' || ev.cached === true || ((ev.type === 'retry' || ev.type === 'status') && code === 'ERR_TASK_STALLED');
  }

  function apply(ev) {
    applied++;
    if (changesStats(ev)) scheduleRefresh(1000);
    var t = tasks.get(ev.taskId);
    if (ev.type === 'registered') {
      if (!t) tasks.set(ev.taskId, { id: ev.taskId, name: ev.name, status: 'PENDING', priority: NORMAL_PRIORITY, progress: 0, message: null, attempts: 0, dependencies: [], error: null, stalled: null });
      scheduleRefresh(300); // its dependencies come with /api/state, which lays the graph out again
      return;
    }
    if (!t) { scheduleRefresh(300); return; }
    if (ev.type === 'status') applyStatus(t, ev);
    else if (ev.type === 'progress') {
      t.progress = ev.progress;
      if (ev.message !== null && ev.message !== undefined) t.message = ev.message;
    } else if (ev.type === 'retry') t.error = ev.error;
    else if (ev.type === 'stalled') setStalled(t, ev.waitingOn);
    else if (ev.type === 'deadline') t.deadlineMissedAt = ev.timestamp;
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
`;

/** The last fragment: starts the page once every function above is defined. */
export const START_SCRIPT = `
  setInterval(renderCounts, 1000);
  window.addEventListener('resize', resizeChart);
  // The view shrinks when the chart appears and when the window does: the graph is fitted again each time.
  new ResizeObserver(fitGraph).observe(document.getElementById('view'));
  load().then(function () { connect(); loadStatechart(); });
`;
