import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, TaskEngine, TaskStatus, type TaskEvent } from '../../src/index.js';
import {
  DASHBOARD_MAX_MESSAGES,
  serveDashboard,
  type Dashboard,
  type StateJson,
  type StatechartJson,
  type TaskDetailJson,
} from '../../src/dashboard/index.js';
import { CLIENT_SCRIPT, PAGE_HTML } from '../../src/dashboard/page.js';
import { deferred, flush, simulatedEngine } from '../helpers.js';
import { durableEngine, tempDbPath } from '../durable/helpers.js';

interface DagreGraph {
  setGraph(label: object): void;
  setDefaultEdgeLabel(fn: () => object): void;
  setNode(id: string, label: object): void;
  setEdge(v: string, w: string): void;
  node(id: string): { x: number; y: number };
}

const HOSTILE = '<img src=x onerror=alert(1)>';

let engine: TaskEngine | undefined;
let dashboard: Dashboard | undefined;

afterEach(async () => {
  await dashboard?.close();
  await engine?.shutdown();
  dashboard = undefined;
  engine = undefined;
});

/** Reads SSE messages from a fetch response until `until` says stop. */
async function readSse(
  response: Response,
  until: (batches: unknown[][]) => boolean,
  timeoutMs = 5000,
): Promise<{ batches: unknown[][]; comments: string[] }> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const batches: unknown[][] = [];
  const comments: string[] = [];
  let text = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (!until(batches)) {
      if (Date.now() > deadline) throw new Error(`SSE timed out after ${batches.length} batches`);
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const message = text.slice(0, end);
        text = text.slice(end + 2);
        for (const line of message.split('\n')) {
          if (line.startsWith('data: ')) batches.push(JSON.parse(line.slice(6)) as unknown[]);
          else if (line.startsWith(':')) comments.push(line);
        }
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return { batches, comments };
}

describe('serveDashboard', () => {
  it('serves the page, dagre, the state and batched events', async () => {
    engine = new TaskEngine({ concurrency: 2 });
    dashboard = await serveDashboard(engine, { port: 0 });
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    const gate = deferred();
    const a = engine.registerTask({ id: 'a', name: 'extract', fn: () => gate.promise });
    const b = engine.registerTask({ id: 'b', name: HOSTILE, dependencies: [a], fn: () => 'b' });
    const c = engine.registerTask({
      id: 'c',
      name: 'load',
      dependencies: [a, b],
      fn: () => {
        throw new Error(HOSTILE);
      },
    });
    for (const id of [a, b, c]) engine.startTask(id);

    const page = await fetch(dashboard.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('src="/dagre.js"');
    expect(html).toContain('/api/events');
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=["']?(https?:)?\/\//i);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");

    const app = await fetch(new URL('app.js', dashboard.url));
    expect(app.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await app.text()).toBe(CLIENT_SCRIPT);

    const dagre = await fetch(new URL('dagre.js', dashboard.url));
    expect(dagre.status).toBe(200);
    expect(dagre.headers.get('content-type')).toMatch(/^text\/javascript/);
    const dagreText = await dagre.text();
    expect(dagreText).toContain('var dagre');
    expect(dagreText.length).toBeGreaterThan(10_000);
    // The API the page uses: a browser global with graphlib.Graph and layout, left to right.
    const sandbox: Record<string, unknown> = { structuredClone };
    new Script(`${dagreText};globalThis.dagre = dagre;`).runInNewContext(sandbox);
    const lib = sandbox.dagre as { graphlib: { Graph: new () => DagreGraph }; layout(g: DagreGraph): void };
    const g = new lib.graphlib.Graph();
    g.setGraph({ rankdir: 'LR' });
    g.setDefaultEdgeLabel(() => ({}));
    g.setNode('a', { width: 100, height: 40 });
    g.setNode('b', { width: 100, height: 40 });
    g.setEdge('a', 'b');
    lib.layout(g);
    expect(g.node('a').x).toBeLessThan(g.node('b').x);

    const state = (await (await fetch(new URL('api/state', dashboard.url))).json()) as StateJson;
    expect(state.tasks.map((t) => t.id)).toEqual(['a', 'b', 'c']);
    expect(state.tasks.map((t) => t.status)).toEqual([TaskStatus.RUNNING, TaskStatus.WAITING, TaskStatus.WAITING]);
    expect(state.tasks[1]).toMatchObject({ name: HOSTILE, dependencies: ['a'], attempts: 0, progress: 0 });
    expect(state.tasks[2]?.dependencies).toEqual(['a', 'b']);
    expect(state.stats.total).toBe(3);
    expect(state.layoutLimit).toBe(2000);

    const events = await fetch(new URL('api/events', dashboard.url));
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // The stream's headers are written by the code that subscribes it: once they are here, no event can be missed.
    const reading = readSse(events, (batches) =>
      batches
        .flat()
        .some((e) => (e as { taskId: string; status?: string }).taskId === 'c' && (e as { status?: string }).status === 'FAILED'),
    );
    gate.resolve('a');
    const { batches } = await reading;
    const flat = batches.flat() as Array<{
      type: string;
      taskId: string;
      name: string;
      status?: string;
      error?: { name: string; message: string } | null;
    }>;
    expect(flat.filter((e) => e.type === 'status' && e.status === 'COMPLETED').map((e) => e.taskId)).toEqual(['a', 'b']);
    const failed = flat.find((e) => e.taskId === 'c' && e.status === 'FAILED');
    expect(failed?.error).toEqual({ name: 'Error', message: HOSTILE });
    expect(flat.find((e) => e.taskId === 'b')?.name).toBe(HOSTILE);

    const after = (await (await fetch(new URL('api/state', dashboard.url))).json()) as StateJson;
    expect(after.tasks.map((t) => t.status)).toEqual(['COMPLETED', 'COMPLETED', 'FAILED']);
    expect(after.tasks[2]?.error).toEqual({ name: 'Error', message: HOSTILE });

    expect((await fetch(new URL('nope', dashboard.url))).status).toBe(404);
    expect((await fetch(dashboard.url, { method: 'POST' })).status).toBe(405);
  });

  it('batches many events into few SSE messages', async () => {
    engine = new TaskEngine({ concurrency: 50 });
    dashboard = await serveDashboard(engine, { port: 0, batchInterval: 100 });
    const response = await fetch(new URL('api/events', dashboard.url));
    const gate = deferred();
    const ids = engine.registerTasks(Array.from({ length: 200 }, (_, i) => ({ name: `t${i}`, fn: () => gate.promise })));
    const countFinished = (batches: unknown[][]) => batches.flat().filter((e) => (e as { status?: string }).status === 'COMPLETED').length;
    const reading = readSse(response, (batches) => countFinished(batches) === 200);
    for (const id of ids) engine.startTask(id);
    gate.resolve(undefined);
    const { batches } = await reading;
    const total = batches.flat().length;
    expect(countFinished(batches)).toBe(200);
    expect(total).toBeGreaterThanOrEqual(600); // registered, RUNNING, COMPLETED for each
    expect(batches.length).toBeLessThan(total / 20);
    for (const batch of batches) expect(Array.isArray(batch)).toBe(true);
  });

  it('sends heartbeats and unsubscribes when the client goes away', async () => {
    engine = new TaskEngine();
    const real = engine;
    let active = 0;
    const events = new Observable<TaskEvent>((subscriber) => {
      active++;
      const subscription = real.events.subscribe(subscriber);
      return () => {
        active--;
        subscription.unsubscribe();
      };
    });
    const counted = { events, getTask: (id: string) => real.getTask(id), getStats: () => real.getStats() };
    const d = await serveDashboard(counted, { port: 0, heartbeatInterval: 20 });
    dashboard = d;
    expect(active).toBe(1); // the id tracker
    const response = await fetch(new URL('api/events', d.url));
    let seen = 0;
    const { comments } = await readSse(response, () => ++seen > 4);
    expect(comments).toContain(': heartbeat');
    await expect.poll(() => active).toBe(1); // the client's subscription is gone once the server sees it leave
    const again = await fetch(new URL('api/events', d.url));
    const reader = (again.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    expect(active).toBe(2);
    await d.close();
    expect(active).toBe(0);
    await reader.cancel().catch(() => undefined);
    // Events still flow for the engine, and none reaches the closed dashboard.
    const id = engine.registerTask({ name: 'after', fn: () => 1 });
    engine.startTask(id);
    expect(await engine.waitForTask(id)).toBe(1);
    expect(active).toBe(0);
  });

  it('shows tasks given as taskIds, and dependencies of tracked tasks', async () => {
    engine = new TaskEngine();
    const early = engine.registerTask({ id: 'early', name: 'early' });
    const hidden = engine.registerTask({ id: 'hidden', name: 'hidden' });
    const dep = engine.registerTask({ id: 'dep', name: 'dep' });
    dashboard = await serveDashboard(engine, { port: 0, taskIds: [early, 'never-registered'] });
    engine.registerTask({ id: 'late', name: 'late', dependencies: [dep] });
    const state = (await (await fetch(new URL('api/state', dashboard.url))).json()) as StateJson;
    const ids = state.tasks.map((t) => t.id).sort();
    expect(ids).toEqual(['dep', 'early', 'late']);
    expect(ids).not.toContain(hidden);
  });

  it('binds 127.0.0.1 by default and refuses bad options naming the field', async () => {
    engine = new TaskEngine();
    dashboard = await serveDashboard(engine);
    expect(new URL(dashboard.url).hostname).toBe('127.0.0.1');
    const bad: Array<[unknown, string]> = [
      [{ port: -1 }, 'port'],
      [{ port: 1.5 }, 'port'],
      [{ port: '80' }, 'port'],
      [{ host: '' }, 'host'],
      [{ taskIds: 'a' }, 'taskIds'],
      [{ taskIds: [1] }, 'taskIds'],
      [{ batchInterval: 0 }, 'batchInterval'],
      [{ heartbeatInterval: Number.NaN }, 'heartbeatInterval'],
      [{ prot: 80 }, 'options.prot'],
      ['fast', 'options'],
    ];
    for (const [options, field] of bad) {
      const error = await serveDashboard(engine, options as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).field).toBe(field);
      expect((error as InvalidOptionError).code).toBe('ERR_INVALID_OPTION');
      expect((error as Error).message).toContain(field.split('.').pop());
    }
    const noEngine = await serveDashboard({} as never).catch((e: unknown) => e);
    expect((noEngine as InvalidOptionError).field).toBe('engine');
  });

  it('close() ends open SSE streams and is idempotent', async () => {
    engine = new TaskEngine();
    const d = await serveDashboard(engine, { port: 0 });
    const response = await fetch(new URL('api/events', d.url));
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await Promise.all([d.close(), d.close()]);
    let done = false;
    for (let i = 0; i < 10 && !done; i++) done = (await reader.read().catch(() => ({ done: true }))).done;
    expect(done).toBe(true);
    await expect(fetch(d.url)).rejects.toThrow();
  });

  it('a process that serves and closes exits by itself', async () => {
    const script = fileURLToPath(new URL('./fixtures/serve-and-close.mjs', import.meta.url));
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('timeout');
      }, 8000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c ?? -1);
      });
    });
    expect(out).toContain('closed');
    expect(code).toBe(0);
  });
});

describe('statechart, attempt history and uPlot', () => {
  it('serves the task machine as states with their status and transitions', async () => {
    engine = new TaskEngine();
    dashboard = await serveDashboard(engine, { port: 0 });
    const response = await fetch(new URL('api/statechart', dashboard.url));
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const chart = (await response.json()) as StatechartJson;
    expect(chart.states.map((s) => s.name)).toEqual([
      'pending',
      'waiting',
      'queued',
      'dispatched',
      'running',
      'retrying',
      'completed',
      'failed',
      'cancelled',
    ]);
    expect(chart.states.find((s) => s.name === 'retrying')).toEqual({ name: 'retrying', status: 'PENDING', final: false });
    expect(chart.states.find((s) => s.name === 'completed')).toMatchObject({ status: 'COMPLETED', final: true });
    expect(chart.initial).toBe('pending');
    expect(chart.transitions).toContainEqual({ source: 'running', target: 'retrying', event: 'ATTEMPT_FAILED' });
    expect(chart.transitions).toContainEqual({ source: 'queued', target: 'running', event: 'DISPATCH' });
    expect(chart.transitions).toContainEqual({ source: 'retrying', target: 'queued', event: 'after retryBackoff' });
    const names = new Set(chart.states.map((s) => s.name));
    for (const t of chart.transitions) {
      expect(names.has(t.source) && names.has(t.target)).toBe(true);
      expect(t.source).not.toBe(t.target);
    }
    const keys = chart.transitions.map((t) => `${t.source}>${t.target}>${t.event}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('keeps attempts and progress messages per task, served by /api/task/<id>', async () => {
    engine = new TaskEngine();
    dashboard = await serveDashboard(engine, { port: 0 });
    let calls = 0;
    const id = engine.registerTask({
      id: 'flaky/1 é',
      name: 'flaky',
      maxRetries: 2,
      retryDelay: 5,
      fn: async (ctx) => {
        calls++;
        for (let i = 0; i < 15; i++) ctx.progress(i / 15, `try ${calls} step ${i} <b>`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (calls === 1) throw new Error('first try fails <i>');
        return 'ok';
      },
    });
    engine.startTask(id);
    await engine.waitForTask(id);
    const response = await fetch(new URL(`api/task/${encodeURIComponent(id)}`, dashboard.url));
    expect(response.status).toBe(200);
    const detail = (await response.json()) as TaskDetailJson;
    expect(detail.task).toMatchObject({ id, name: 'flaky', status: 'COMPLETED', state: 'completed', attempts: 2 });
    expect(detail.attempts).toHaveLength(2);
    const [first, second] = detail.attempts;
    expect(first).toMatchObject({ attempt: 1, outcome: 'failed', error: { name: 'Error', message: 'first try fails <i>' } });
    expect(second).toMatchObject({ attempt: 2, outcome: 'completed', error: null });
    for (const a of detail.attempts) {
      expect(a.endedAt).not.toBeNull();
      expect(a.endedAt as number).toBeGreaterThanOrEqual(a.startedAt);
    }
    expect((second?.startedAt ?? 0) >= (first?.endedAt ?? Infinity)).toBe(true);
    expect(detail.messages).toHaveLength(DASHBOARD_MAX_MESSAGES);
    expect(detail.messages.at(-1)?.message).toBe('try 2 step 14 <b>');
    expect(detail.messages[0]?.message).toBe('try 1 step 10 <b>');

    const failing = engine.registerTask({
      id: 'bad',
      name: 'bad',
      fn: () => {
        throw new Error('nope');
      },
    });
    engine.startTask(failing);
    await engine.waitForTask(failing).catch(() => undefined);
    const bad = (await (await fetch(new URL('api/task/bad', dashboard.url))).json()) as TaskDetailJson;
    expect(bad.task).toMatchObject({ status: 'FAILED', state: 'failed' });
    expect(bad.attempts).toEqual([expect.objectContaining({ attempt: 1, outcome: 'failed', error: { name: 'Error', message: 'nope' } })]);

    const state = (await (await fetch(new URL('api/state', dashboard.url))).json()) as StateJson;
    expect(state.tasks.map((t) => t.state)).toEqual(['completed', 'failed']);
    expect((await fetch(new URL('api/task/unknown', dashboard.url))).status).toBe(404);
    expect((await fetch(new URL('api/task/%E0%A4%A', dashboard.url))).status).toBe(400);
  });

  it('reports a task started while its dependency never was as stalled, until that dependency starts', async () => {
    engine = new TaskEngine();
    dashboard = await serveDashboard(engine, { port: 0 });
    engine.registerTasks([
      { id: 'approve', name: 'approve release' },
      { id: 'publish', name: 'publish', dependencies: ['approve'] },
    ]);
    const events = await fetch(new URL('api/events', dashboard.url));
    const reading = readSse(events, (batches) => batches.flat().some((e) => (e as { type: string }).type === 'stalled'));
    engine.startTask('publish');
    await engine.onIdle();
    const { batches } = await reading;
    expect(batches.flat().find((e) => (e as { type: string }).type === 'stalled')).toMatchObject({
      type: 'stalled',
      taskId: 'publish',
      name: 'publish',
      waitingOn: ['approve'],
    });

    const stalledOf = async () => {
      const state = (await (await fetch(new URL('api/state', dashboard?.url))).json()) as StateJson;
      return Object.fromEntries(state.tasks.map((t) => [t.id, t.stalled]));
    };
    expect(await stalledOf()).toEqual({ approve: null, publish: ['approve'] });
    const detail = (await (await fetch(new URL('api/task/publish', dashboard.url))).json()) as TaskDetailJson;
    expect(detail.task).toMatchObject({ status: 'WAITING', stalled: ['approve'] });

    // Starting the dependency ends the stall, although the stalled task's own status has not changed.
    engine.startTask('approve');
    expect(engine.getTaskStatus('publish')).toBe('WAITING');
    expect(await stalledOf()).toEqual({ approve: null, publish: null });
  });

  it('says why a task waits: the dependencies it waits for, the per-key limit holding it, and its rule and limits', async () => {
    engine = new TaskEngine({ limits: { domain: { concurrency: 1 } } });
    dashboard = await serveDashboard(engine, { port: 0 });
    const gate = deferred();
    engine.registerTasks([
      { id: 'f1', name: 'fetch 1', limits: { domain: 'example.com' }, fn: () => gate.promise },
      { id: 'f2', name: 'fetch 2', limits: { domain: 'example.com' }, fn: () => 'page' },
      { id: 'report', name: 'report', dependencies: ['f1', 'f2'], trigger: 'all_done', fn: () => 'report' },
    ]);
    engine.startTasks(['f1', 'f2', 'report']);
    const detailOf = async (id: string) => ((await (await fetch(new URL(`api/task/${id}`, dashboard?.url))).json()) as TaskDetailJson).task;
    expect(await detailOf('f2')).toMatchObject({
      status: 'PENDING',
      waitingOn: { dependencies: [], limit: { limiter: 'domain', key: 'example.com', until: null } },
      limits: [{ limiter: 'domain', key: 'example.com', cost: 1 }],
    });
    expect(await detailOf('report')).toMatchObject({
      status: 'WAITING',
      waitingOn: { dependencies: ['f1', 'f2'], limit: null },
      settings: { trigger: 'all_done' },
    });
    gate.resolve('page');
    await engine.onIdle();
    expect(await detailOf('report')).toMatchObject({ status: 'COMPLETED', waitingOn: null });
  });

  it('serves a stalled attempt, a completion from the cache, a missed deadline, a skipped cache, and their counts', async () => {
    const simulated = simulatedEngine();
    engine = simulated.engine;
    dashboard = await serveDashboard(engine, { port: 0 });
    const sum = (_ctx: unknown, x: number, y: number) => x + y;
    engine.registerTasks(
      [
        { id: 'first', name: 'sum', args: [1, 2], cache: true, fn: sum },
        { id: 'approve', name: 'approve', deadline: 100 }, // external: nobody completes it in time
        { id: 'odd', name: 'odd', args: [() => 1], cache: true, fn: () => 'ran' }, // a function has no cache key
        {
          id: 'crawl',
          name: 'crawl',
          heartbeatTimeout: 50,
          maxRetries: 1,
          retryDelay: 10,
          fn: (ctx) => (ctx.attempt === 1 ? new Promise(() => {}) : 'crawled'), // the first attempt never beats
        },
      ],
      { start: true },
    );
    await engine.waitForTask('first');
    engine.registerTask({ id: 'again', name: 'sum', args: [1, 2], cache: true, fn: sum });
    engine.startTask('again');
    await engine.waitForTask('again');
    await simulated.advance(60); // crawl's first attempt stalls
    await simulated.advance(10); // its retry runs
    await simulated.advance(40); // approve's deadline passes
    expect(await engine.waitForTask('crawl')).toBe('crawled');

    const detailOf = async (id: string) => (await (await fetch(new URL(`api/task/${id}`, dashboard?.url))).json()) as TaskDetailJson;
    const crawl = await detailOf('crawl');
    expect(crawl.attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        outcome: 'failed',
        stalled: { heartbeatTimeout: 50 },
        error: expect.objectContaining({ code: 'ERR_TASK_STALLED' }),
      }),
      expect.objectContaining({ attempt: 2, outcome: 'completed', stalled: null }),
    ]);
    expect(crawl.task.lastHeartbeatAt).toBe(70); // when its second attempt began (the simulated clock's ms)
    const again = await detailOf('again');
    expect(again.task).toMatchObject({ status: 'COMPLETED', cached: true, attempts: 0 });
    expect(again.attempts).toEqual([]);
    expect((await detailOf('first')).task.cached).toBe(false);
    expect((await detailOf('approve')).task).toMatchObject({ status: 'RUNNING', deadlineMissedAt: 110 });
    expect((await detailOf('odd')).cacheSkipped).toMatchObject({ message: expect.stringMatching(/function/) });
    expect((await detailOf('crawl')).cacheSkipped).toBeNull();

    const state = (await (await fetch(new URL('api/state', dashboard.url))).json()) as StateJson;
    expect(state.stats).toMatchObject({ cacheHits: 1, deadlinesMissed: 1, stalledAttempts: 1 });
    expect(state.tasks.find((t) => t.id === 'approve')).toMatchObject({ deadlineMissedAt: 110, interruptions: 0, crashes: 0 });
  });

  it('gives the interruptions of a task re-run free after its process died', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('slow', () => new Promise(() => {}));
    first.engine.registerTask({ id: 'import', name: 'import', handler: 'slow' });
    first.engine.startTask('import');
    await flush();
    first.crash(); // the process dies with the attempt running

    const second = durableEngine(path);
    engine = second.engine;
    engine.defineTask('slow', () => 'imported');
    dashboard = await serveDashboard(engine, { port: 0 });
    await engine.restore();
    second.advance(0);
    expect(await engine.waitForTask('import')).toBe('imported');
    const detail = (await (await fetch(new URL('api/task/import', dashboard.url))).json()) as TaskDetailJson;
    expect(detail.task).toMatchObject({ status: 'COMPLETED', attempts: 2, interruptions: 1, crashes: 0 });
  });

  it('serves its own icon, so the browser asks for nothing that is missing', async () => {
    engine = new TaskEngine();
    dashboard = await serveDashboard(engine, { port: 0 });
    expect(await (await fetch(dashboard.url)).text()).toContain('<link rel="icon" type="image/svg+xml" href="/favicon.svg">');
    for (const path of ['favicon.svg', 'favicon.ico']) {
      const icon = await fetch(new URL(path, dashboard.url));
      expect(icon.status).toBe(200);
      expect(icon.headers.get('content-type')).toBe('image/svg+xml');
      expect(await icon.text()).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    }
  });

  it('serves uPlot from node_modules and allows its stylesheet in the CSP', async () => {
    engine = new TaskEngine();
    dashboard = await serveDashboard(engine, { port: 0 });
    const page = await fetch(dashboard.url);
    const html = await page.text();
    expect(html).toContain('src="/uplot.js"');
    expect(html).toContain('href="/uplot.css"');
    expect(page.headers.get('content-security-policy')).toContain("style-src 'self'");
    const js = await fetch(new URL('uplot.js', dashboard.url));
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await js.text()).toContain('uPlot');
    const css = await fetch(new URL('uplot.css', dashboard.url));
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await css.text()).toContain('.uplot');
  });
});

describe('the page script', () => {
  it('never inserts HTML from data', () => {
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function']) {
      expect(CLIENT_SCRIPT).not.toContain(sink);
    }
    expect(CLIENT_SCRIPT).toContain('textContent');
    expect(CLIENT_SCRIPT).toContain("rankdir: 'LR'");
    expect(CLIENT_SCRIPT).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(PAGE_HTML).not.toMatch(/https?:\/\//);
  });

  it('is valid JavaScript', () => {
    expect(() => new Script(CLIENT_SCRIPT)).not.toThrow();
  });
});
