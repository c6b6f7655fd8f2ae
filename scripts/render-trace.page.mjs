// What scripts/render-trace.mjs draws: spans as plain data (from any thread), and a self-contained HTML page that
// shows them as a trace waterfall: one row per span, indented under its parent, its bar placed by its start and end
// times, its span events as markers on it, ERROR spans red. Everything is inline: the page loads nothing.

/** The BroadcastChannel on which the pool thread posts its spans to the main thread. */
export const SPANS_CHANNEL = 'taskchart-render-trace-spans';

/** A finished span (sdk-trace-base's ReadableSpan) as plain data, times in ms since the epoch. */
export function plainSpan(span) {
  const ms = ([seconds, nanos]) => seconds * 1000 + nanos / 1e6;
  return {
    name: span.name,
    kind: span.kind,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentId: span.parentSpanContext?.spanId,
    start: ms(span.startTime),
    end: ms(span.endTime),
    status: { code: span.status.code, message: span.status.message },
    attributes: { ...span.attributes },
    events: span.events.map((event) => ({ name: event.name, time: ms(event.time), attributes: { ...event.attributes } })),
    links: span.links.map((link) => link.context.spanId),
  };
}

const KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const ERROR = 2;

/** The spans in tree order (a parent before its children, siblings by start time), each with its depth. */
export function treeOrder(spans) {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map();
  for (const span of spans) {
    const parent = ids.has(span.parentId) ? span.parentId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const rows = [];
  const visit = (parent, depth) => {
    for (const span of (children.get(parent) ?? []).sort((a, b) => a.start - b.start || a.end - b.end)) {
      rows.push({ span, depth });
      visit(span.spanId, depth + 1);
    }
  };
  visit(undefined, 0);
  return rows;
}

/** What a span is, for its colour: the request, a task, an attempt, code of the user's in a pool thread. */
function categoryOf(span) {
  if (span.status.code === ERROR) return 'error';
  if (span.name.startsWith('taskchart.task ')) return 'task';
  if (span.name.startsWith('taskchart.attempt ')) return 'attempt';
  return span.thread ? 'thread' : 'request';
}

const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const formatMs = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : ms < 100 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(0)} ms`);

/** A tick step (ms) that puts 6 to 12 ticks on `total` ms. */
function tickStep(total) {
  const steps = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000];
  return steps.find((step) => total / step <= 12) ?? 10_000;
}

/** The row's name: `taskchart.task` muted, the task's name bold; other spans' names as they are. */
function nameHtml(span) {
  const match = /^(taskchart\.(?:task|attempt)) (.+)$/.exec(span.name);
  if (match === null) return `<b>${escape(span.name)}</b>`;
  return `<span class="prefix">${escape(match[1])}</span> <b>${escape(match[2])}</b>`;
}

/** The second line of a row: what the span's attributes say, in a few words. */
function detailOf(span, names) {
  const a = span.attributes;
  const parts = [];
  if (a['taskchart.attempt'] !== undefined) parts.push(`attempt ${a['taskchart.attempt']}`);
  if (a['taskchart.executor'] !== undefined) parts.push(String(a['taskchart.executor']));
  if (a['taskchart.attempt.outcome'] !== undefined) parts.push(String(a['taskchart.attempt.outcome']));
  if (a['taskchart.task.status'] !== undefined) parts.push(String(a['taskchart.task.status']));
  if (a['taskchart.task.cached'] === true) parts.push('cached');
  if (span.kind === 1) parts.push("your code's span, the trace's root: the tasks were started in it");
  if (span.thread) parts.push('in a pool thread');
  if (a['example.rounds'] !== undefined) parts.push(`${Number(a['example.rounds']).toLocaleString('en')} rounds`);
  if (span.links.length > 0) parts.push(`links: ${span.links.map((id) => names.get(id) ?? id).join(', ')}`);
  return parts.join(' · ');
}

const EVENT_LABELS = {
  'taskchart.retry': 'retry',
  'taskchart.cache.hit': 'cache hit',
  'taskchart.rate_limit.pause': 'rate-limit pause',
  'taskchart.attempt.stalled': 'stalled',
  'taskchart.deadline.missed': 'deadline missed',
  'taskchart.executor.unavailable': 'executor unavailable',
  exception: 'exception',
};

/** The page: a waterfall of `spans` (plain, from plainSpan) under `title`. */
export function tracePage(spans, { title }) {
  const rows = treeOrder(spans);
  const t0 = Math.min(...spans.map((span) => span.start));
  const total = Math.max(...spans.map((span) => span.end)) - t0;
  const x = (time) => `${(((time - t0) / total) * 100).toFixed(3)}%`;
  const names = new Map(spans.map((span) => [span.spanId, span.name.replace(/^taskchart\.task /, '')]));
  const step = tickStep(total);
  const ticks = [];
  for (let t = 0; t <= total; t += step) ticks.push(t);

  const rowHtml = rows.map(({ span, depth }) => {
    const category = categoryOf(span);
    const duration = span.end - span.start;
    const error =
      span.status.code === ERROR
        ? `<span class="error-label">${escape(span.attributes['error.type'] ?? 'ERROR')}: ${escape(span.status.message ?? '')}</span>`
        : '';
    const markers = span.events
      .map((event) => {
        const label = EVENT_LABELS[event.name] ?? event.name;
        return `<span class="event" style="left:${x(event.time)}" title="${escape(event.name)}"><i></i><em>${escape(label)}</em></span>`;
      })
      .join('');
    const barStyle = `left:${x(span.start)};width:max(3px, ${((duration / total) * 100).toFixed(3)}%)`;
    return `<div class="row ${category}">
      <div class="name" style="padding-left:${12 + depth * 22}px">
        ${depth > 0 ? '<span class="elbow"></span>' : ''}
        <div class="title"><span class="kind">${KINDS[span.kind] ?? span.kind}</span>${nameHtml(span)}</div>
        <div class="detail">${escape(detailOf(span, names))}</div>
      </div>
      <div class="lane"><span class="bar" style="${barStyle}">${error}</span>${markers}</div>
      <div class="duration">${formatMs(duration)}</div>
    </div>`;
  });

  const grid = ticks.map((t) => `<span style="left:${x(t0 + t)}"></span>`).join('');
  const axis = ticks
    .map((t) => `<span style="left:${x(t0 + t)}">${t === 0 ? '0' : t >= 1000 ? `${t / 1000} s` : `${t} ms`}</span>`)
    .join('');
  const legend = [
    ['request', 'request span (your code)'],
    ['task', 'taskchart.task'],
    ['attempt', 'taskchart.attempt'],
    ['thread', 'span made in a pool thread'],
    ['error', 'ERROR status'],
  ]
    .map(([category, label]) => `<span class="${category}"><i></i>${escape(label)}</span>`)
    .join('');

  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escape(title)}</title><style>
  * { box-sizing: border-box; }
  body { margin: 0; background: #eef1f5; font: 13px/1.35 'DejaVu Sans', sans-serif; color: #1c2330; }
  #trace { width: 1400px; padding: 26px 28px 30px; }
  .card { background: #fff; border-radius: 10px; box-shadow: 0 1px 3px rgba(16,24,40,.12), 0 1px 2px rgba(16,24,40,.06); overflow: hidden; }
  header { padding: 18px 22px 14px; border-bottom: 1px solid #e4e8ee; display: flex; align-items: flex-end; justify-content: space-between; gap: 24px; }
  h1 { font-size: 18px; margin: 0 0 4px; font-weight: bold; }
  .meta { color: #5b6576; font-size: 12.5px; }
  .meta code { font: 12px 'DejaVu Sans Mono', monospace; color: #394150; }
  .legend { display: flex; gap: 16px; font-size: 12px; color: #394150; flex-wrap: wrap; justify-content: flex-end; }
  .legend i { display: inline-block; width: 14px; height: 10px; border-radius: 3px; margin-right: 6px; vertical-align: -1px; background: var(--c); }
  .row, .axis { display: grid; grid-template-columns: 430px 1fr 86px; }
  .axis { height: 30px; border-bottom: 1px solid #e4e8ee; background: #fafbfc; font-size: 11px; color: #6b7485; }
  .axis .ticks { position: relative; margin: 0 18px; }
  .axis .ticks span { position: absolute; top: 9px; transform: translateX(-50%); white-space: nowrap; }
  .axis .head { padding: 8px 12px; font-weight: bold; color: #394150; }
  .axis .head.right { text-align: right; padding-right: 16px; }
  .rows { position: relative; }
  .gridlines { position: absolute; top: 0; bottom: 0; left: 448px; right: 104px; pointer-events: none; }
  .gridlines span { position: absolute; top: 0; bottom: 0; border-left: 1px dashed #e3e7ed; }
  .row { height: 46px; border-bottom: 1px solid #f0f2f5; position: relative; }
  .row:nth-child(even) { background: #fbfcfd; }
  .name { position: relative; padding-top: 6px; white-space: nowrap; overflow: hidden; }
  .elbow { position: absolute; top: 0; height: 16px; width: 10px; margin-left: -14px; border-left: 1.5px solid #c3cad5; border-bottom: 1.5px solid #c3cad5; border-bottom-left-radius: 4px; }
  .title { font-size: 13.5px; }
  .title b { font-weight: bold; }
  .prefix { color: #6b7485; }
  .kind { display: inline-block; font-size: 9.5px; letter-spacing: .04em; padding: 1px 5px; margin-right: 7px; border-radius: 4px; background: #eef1f5; color: #4a5363; vertical-align: 1px; }
  .detail { font-size: 11.5px; color: #6b7485; margin-top: 2px; overflow: hidden; text-overflow: ellipsis; }
  .lane { position: relative; margin: 0 18px; }
  .bar { position: absolute; top: 19px; height: 14px; border-radius: 3px; background: var(--c); }
  .error-label { position: absolute; left: calc(100% + 8px); top: -1px; white-space: nowrap; color: #c62a2f; font-size: 11.5px; font-weight: bold; }
  .event { position: absolute; top: 18px; width: 0; }
  .event i { position: absolute; left: -6px; top: 2px; width: 11px; height: 11px; background: #1c2330; border: 2px solid #fff; transform: rotate(45deg); border-radius: 2px; }
  .event em { position: absolute; bottom: 14px; left: 0; transform: translateX(-50%); font-style: normal; font-size: 10.5px; font-weight: bold; color: #1c2330; white-space: nowrap; background: rgba(255,255,255,.85); padding: 0 3px; border-radius: 3px; }
  .duration { text-align: right; padding: 15px 16px 0 0; font: 12px 'DejaVu Sans Mono', monospace; color: #394150; }
  footer { padding: 12px 22px 14px; border-top: 1px solid #e4e8ee; background: #fafbfc; color: #5b6576; font-size: 12px; }
  footer code { font: 11.5px 'DejaVu Sans Mono', monospace; color: #394150; }
  .request { --c: #64748b; }
  .task { --c: #3b82f6; }
  .attempt { --c: #14b8a6; }
  .thread { --c: #a855f7; }
  .error { --c: #e5484d; }
</style></head><body>
<div id="trace"><div class="card">
  <header>
    <div>
      <h1>${escape(title)}</h1>
      <div class="meta">trace <code>${escape(spans[0]?.traceId ?? '')}</code> · ${spans.length} spans · ${formatMs(total)}</div>
    </div>
    <div class="legend">${legend}</div>
  </header>
  <div class="axis"><div class="head">span</div><div class="ticks">${axis}</div><div class="head right">duration</div></div>
  <div class="rows"><div class="gridlines">${grid}</div>${rowHtml.join('\n')}</div>
  <footer>A <b>taskchart.task</b> span runs from <code>startTask</code> to the task's terminal status, waiting included; a
  <b>taskchart.attempt</b> span from the hand-over to the executor to the attempt's end, and is the active span inside the task
  function, in a pool thread too. Markers are span events.</footer>
</div></div>
</body></html>`;
}
