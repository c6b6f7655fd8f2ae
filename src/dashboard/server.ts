/**
 * `serveDashboard(engine, options)`: a small node:http server with the live
 * dashboard page, the dagre browser build, a JSON snapshot and a batched
 * Server-Sent Events stream fed from `engine.events`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Observable, Subscription } from 'rxjs';
import type { TaskEvent } from '../events.js';
import type { TaskStats } from '../monitor/stats.js';
import { invalid, ownFields } from '../validate.js';

const OPTION_KEYS: ReadonlySet<string> = new Set(['port', 'host', 'taskIds', 'batchInterval', 'heartbeatInterval']);
import { CLIENT_SCRIPT, FAVICON_SVG, PAGE_HTML } from './page.js';
import { TaskHistories, taskStatechart, type HistoryJson } from './history.js';
import { eventToJson, taskToJson, type EventJson, type StateJson, type TaskInfoLike, type TaskJson } from './snapshot.js';

/** Above this many tasks the page shows counts by status and a list instead of laying out the graph. */
export const DASHBOARD_LAYOUT_LIMIT = 2000;

/** Events buffered for one client before the buffer is dropped and the client told to reload `/api/state`. */
export const DASHBOARD_MAX_BATCH = 5000;

/** What the dashboard needs of a `TaskEngine`. */
export interface DashboardEngine {
  readonly events: Observable<TaskEvent>;
  getTask(id: string): TaskInfoLike;
  getStats(): TaskStats;
}

export interface DashboardOptions {
  /** TCP port, integer 0..65535; default 0 (an ephemeral port: read `url`). */
  port?: number;
  /** Address to bind; default `127.0.0.1` (loopback only). */
  host?: string;
  /**
   * Ids of tasks registered before `serveDashboard` was called, to show them
   * too. Tasks registered afterwards are tracked from `registered` events.
   */
  taskIds?: readonly string[];
  /** Ms between SSE flushes of buffered events; default 100. */
  batchInterval?: number;
  /** Ms between SSE heartbeat comments; default 15000. */
  heartbeatInterval?: number;
}

export interface Dashboard {
  /** e.g. `http://127.0.0.1:53012/` */
  readonly url: string;
  /** Ends every SSE stream and the server; resolves when the server is closed. */
  close(): Promise<void>;
}

interface ResolvedOptions {
  port: number;
  host: string;
  taskIds: string[];
  batchInterval: number;
  heartbeatInterval: number;
}

function resolveOptions(engine: unknown, options: unknown): ResolvedOptions {
  const e = engine as Partial<DashboardEngine> | null;
  if (
    typeof e !== 'object' ||
    e === null ||
    typeof e.getTask !== 'function' ||
    typeof e.getStats !== 'function' ||
    typeof e.events?.subscribe !== 'function'
  ) {
    throw invalid('engine', 'a TaskEngine', engine);
  }
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalid('options', 'an object', options);
  const o = ownFields('options', options as Record<string, unknown>, OPTION_KEYS);
  const port = o.port ?? 0;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw invalid('port', 'an integer from 0 to 65535', port);
  const host = o.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.trim() === '') throw invalid('host', 'a non-empty string', host);
  const taskIds = o.taskIds ?? [];
  if (!Array.isArray(taskIds) || taskIds.some((id) => typeof id !== 'string'))
    throw invalid('taskIds', 'an array of task id strings', taskIds);
  const batchInterval = o.batchInterval ?? 100;
  if (typeof batchInterval !== 'number' || !Number.isFinite(batchInterval) || batchInterval < 1 || batchInterval > 60_000) {
    throw invalid('batchInterval', 'a number of ms from 1 to 60000', batchInterval);
  }
  const heartbeatInterval = o.heartbeatInterval ?? 15_000;
  if (
    typeof heartbeatInterval !== 'number' ||
    !Number.isFinite(heartbeatInterval) ||
    heartbeatInterval < 10 ||
    heartbeatInterval > 3_600_000
  ) {
    throw invalid('heartbeatInterval', 'a number of ms from 10 to 3600000', heartbeatInterval);
  }
  return { port, host, taskIds: [...(taskIds as string[])], batchInterval, heartbeatInterval };
}

/** The body of `GET /api/task/<id>`. */
export interface TaskDetailJson extends HistoryJson {
  readonly task: TaskJson;
}

const uplotSources = new Map<string, Promise<string>>();
function loadUplot(file: string): Promise<string> {
  let source = uplotSources.get(file);
  if (!source) {
    const require = createRequire(import.meta.url);
    const main = require.resolve('uplot');
    let dir = dirname(main);
    if (!dir.endsWith('dist')) dir = join(dir, 'dist');
    source = readFile(join(dir, file), 'utf8');
    uplotSources.set(file, source);
    source.catch(() => uplotSources.delete(file));
  }
  return source;
}

let dagreSource: Promise<string> | undefined;
function loadDagre(): Promise<string> {
  if (!dagreSource) {
    const require = createRequire(import.meta.url);
    const packageJson = require.resolve('@dagrejs/dagre/package.json');
    dagreSource = readFile(join(dirname(packageJson), 'dist', 'dagre.js'), 'utf8');
    dagreSource.catch(() => (dagreSource = undefined));
  }
  return dagreSource;
}

/** One SSE client: its own subscription, buffer and timers. */
class SseClient {
  #buffer: EventJson[] = [];
  #dropped = 0;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #heartbeat: ReturnType<typeof setInterval>;
  readonly #subscription: Subscription;
  #closed = false;

  constructor(
    readonly res: ServerResponse,
    events: Observable<TaskEvent>,
    readonly batchInterval: number,
    heartbeatInterval: number,
    readonly onClose: (client: SseClient) => void,
  ) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    res.write('retry: 2000\n: connected\n\n');
    this.#subscription = events.subscribe({ next: (event) => this.#push(event) });
    this.#heartbeat = setInterval(() => this.#write(': heartbeat\n\n'), heartbeatInterval);
  }

  #push(event: TaskEvent): void {
    if (this.#closed) return;
    if (this.#buffer.length >= DASHBOARD_MAX_BATCH) {
      this.#dropped += this.#buffer.length + 1;
      this.#buffer = [];
    } else {
      this.#buffer.push(eventToJson(event));
    }
    this.#flushTimer ??= setTimeout(() => this.#flush(), this.batchInterval);
  }

  #flush(): void {
    this.#flushTimer = undefined;
    if (this.#dropped > 0) {
      this.#write(`event: resync\ndata: ${JSON.stringify({ dropped: this.#dropped })}\n\n`);
      this.#dropped = 0;
    }
    if (this.#buffer.length > 0) {
      const batch = this.#buffer;
      this.#buffer = [];
      this.#write(`data: ${JSON.stringify(batch)}\n\n`);
    }
  }

  #write(chunk: string): void {
    if (!this.#closed && !this.res.writableEnded) this.res.write(chunk);
  }

  /** Stops everything; `end` also ends the response (server side close). */
  close(end: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscription.unsubscribe();
    clearInterval(this.#heartbeat);
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#buffer = [];
    if (end && !this.res.writableEnded) this.res.end();
    this.onClose(this);
  }
}

/**
 * Serves the live dashboard of `engine`.
 *
 * @example
 * const dashboard = await serveDashboard(engine, { port: 0 });
 * console.log(dashboard.url);
 * await dashboard.close();
 */
export async function serveDashboard(engine: DashboardEngine, options?: DashboardOptions): Promise<Dashboard> {
  const resolved = resolveOptions(engine, options);
  const tracked = new Set<string>(resolved.taskIds);
  // Any event names a task: tasks registered earlier show up once they change.
  const histories = new TaskHistories();
  const tracker = engine.events.subscribe({
    next: (event) => {
      tracked.add(event.taskId);
      histories.record(event);
    },
  });
  const clients = new Set<SseClient>();

  // A task the engine reported stalled stays so while it is WAITING and some task it waits on is still unstarted.
  const neverStarted = (id: string): boolean => {
    try {
      const state = engine.getTask(id).state;
      return state === undefined || state === 'pending';
    } catch {
      return false; // forgotten: nothing to start any more
    }
  };
  const toJson = (id: string, info: TaskInfoLike): TaskJson => {
    const waitingOn = info.status === 'WAITING' ? histories.stalledOn(id)?.filter(neverStarted) : undefined;
    return taskToJson(info, waitingOn && waitingOn.length > 0 ? waitingOn : null);
  };

  const snapshot = (): StateJson => {
    const tasks: TaskJson[] = [];
    const seen = new Set<string>();
    const queue = [...tracked];
    while (queue.length > 0) {
      const id = queue.pop() as string;
      if (seen.has(id)) continue;
      seen.add(id);
      let info: TaskInfoLike;
      try {
        info = engine.getTask(id);
      } catch {
        tracked.delete(id); // cleaned up or never existed
        histories.delete(id);
        continue;
      }
      tracked.add(id);
      tasks.push(toJson(id, info));
      for (const dependency of info.dependencies) if (!seen.has(dependency)) queue.push(dependency);
    }
    tasks.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { tasks, stats: engine.getStats(), layoutLimit: DASHBOARD_LAYOUT_LIMIT, generatedAt: Date.now() };
  };

  const send = (res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, {
      'content-type': type,
      'content-length': Buffer.byteLength(body),
      'x-content-type-options': 'nosniff',
      ...extra,
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    switch (path) {
      case '/':
      case '/index.html':
        send(res, 200, 'text/html; charset=utf-8', PAGE_HTML, {
          'content-security-policy':
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
          'cache-control': 'no-cache',
        });
        return;
      case '/app.js':
        send(res, 200, 'text/javascript; charset=utf-8', CLIENT_SCRIPT, { 'cache-control': 'no-cache' });
        return;
      case '/favicon.svg':
      case '/favicon.ico':
        send(res, 200, 'image/svg+xml', FAVICON_SVG, { 'cache-control': 'max-age=86400' });
        return;
      case '/dagre.js':
        send(res, 200, 'text/javascript; charset=utf-8', await loadDagre(), { 'cache-control': 'max-age=3600' });
        return;
      case '/uplot.js':
        send(res, 200, 'text/javascript; charset=utf-8', await loadUplot('uPlot.iife.min.js'), { 'cache-control': 'max-age=3600' });
        return;
      case '/uplot.css':
        send(res, 200, 'text/css; charset=utf-8', await loadUplot('uPlot.min.css'), { 'cache-control': 'max-age=3600' });
        return;
      case '/api/statechart':
        send(res, 200, 'application/json; charset=utf-8', JSON.stringify(taskStatechart()), { 'cache-control': 'max-age=3600' });
        return;
      case '/api/state':
        send(res, 200, 'application/json; charset=utf-8', JSON.stringify(snapshot()), { 'cache-control': 'no-store' });
        return;
      case '/api/events': {
        const client = new SseClient(res, engine.events, resolved.batchInterval, resolved.heartbeatInterval, (c) => clients.delete(c));
        clients.add(client);
        req.on('close', () => client.close(false));
        res.on('error', () => client.close(false));
        return;
      }
      default:
        if (path.startsWith('/api/task/')) {
          let id: string;
          try {
            id = decodeURIComponent(path.slice('/api/task/'.length));
          } catch {
            send(res, 400, 'text/plain; charset=utf-8', 'Bad task id\n');
            return;
          }
          let info: TaskInfoLike;
          try {
            info = engine.getTask(id);
          } catch {
            send(res, 404, 'text/plain; charset=utf-8', 'Unknown task\n');
            return;
          }
          const body: TaskDetailJson = { task: toJson(id, info), ...histories.get(id) };
          send(res, 200, 'application/json; charset=utf-8', JSON.stringify(body), { 'cache-control': 'no-store' });
          return;
        }
        send(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        send(res, 500, 'text/plain; charset=utf-8', `Internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      else res.end();
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(resolved.port, resolved.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    tracker.unsubscribe();
    throw error;
  }

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : resolved.port;
  const hostForUrl = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${hostForUrl}:${port}/`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        tracker.unsubscribe();
        for (const client of [...clients]) client.close(true);
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
