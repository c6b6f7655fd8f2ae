/**
 * taskchart/otel's spans with the real OpenTelemetry SDK (docs/observability.md): the span tree of a DAG whose
 * tasks run in this thread (one retried), in a pool worker thread and in a real `taskchart worker` process
 * (Redis at 127.0.0.1:6379), asserted parent by parent, and the spans' attributes, events and statuses.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { NonRetryableError, TaskEngine, type TaskEngineOptions } from '../../src/index.js';
import { BullMQExecutor } from '../../src/bullmq/index.js';
import { instrument } from '../../src/otel/index.js';
import { REDIS_URL, probeRedis } from '../bullmq/harness.js';
import { cleanupAfterEach, defer, startWorker, watchQueue } from '../bullmq/processes.js';
import { idOf, parentOf, Traces, useContextManager } from './sdk.js';

const unreachable = await probeRedis();
if (unreachable !== undefined && process.env.CI) throw new Error(`Redis at ${REDIS_URL} is required under CI: ${unreachable}`);

useContextManager();
cleanupAfterEach();

const POOL_MODULE = pathToFileURL(fileURLToPath(new URL('../fixtures/otel-pool.mjs', import.meta.url))).href;
const REMOTE_HANDLERS = fileURLToPath(new URL('../fixtures/otel-remote-handlers.mjs', import.meta.url));

const engines: TaskEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.shutdown()));
});

function tracedEngine(options: TaskEngineOptions = {}) {
  const traces = new Traces();
  const engine = new TaskEngine(options);
  engines.push(engine);
  const instrumented = instrument(engine, { tracerProvider: traces.provider });
  return { engine, traces, instrumented, tracer: traces.provider.getTracer('test') };
}

/**
 * A fresh queue, a real `taskchart worker` process on it (with `workerArgs`) whose spans go to a file of the
 * test's own (TASKCHART_TEST_SPANS, read by the fixture handlers' exporter), and a traced engine sending to it.
 */
async function remoteWorld(workerArgs: readonly string[] = []) {
  const spansFile = join(tmpdir(), `taskchart-otel-${randomUUID()}.jsonl`);
  process.env.TASKCHART_TEST_SPANS = spansFile;
  defer(() => rmSync(spansFile, { force: true }));
  const queueName = `tc-otel-${randomUUID().slice(0, 8)}`;
  await watchQueue(REDIS_URL, queueName);
  await startWorker(REDIS_URL, queueName, workerArgs, REMOTE_HANDLERS);
  const world = tracedEngine({ executors: { remote: new BullMQExecutor({ connection: REDIS_URL, queue: queueName }) } });
  return { ...world, queueName, spansFile };
}

/** The task span of `name` and its attempt spans, in attempt order. */
function taskTree(traces: Traces, name: string): { task: ReadableSpan; attempts: ReadableSpan[] } {
  const attempts = traces.all(`taskchart.attempt ${name}`).filter((span) => span.kind !== SpanKind.CONSUMER);
  attempts.sort((a, b) => Number(a.attributes['taskchart.attempt']) - Number(b.attributes['taskchart.attempt']));
  return { task: traces.one(`taskchart.task ${name}`), attempts };
}

describe('task and attempt spans', () => {
  it('ends a failed task span with ERROR and its code as error.type, a dependent failed with it too, and a cancelled one without error', async () => {
    const { engine, traces } = tracedEngine();
    const doomed = engine.registerTask({
      name: 'doomed',
      fn: () => {
        throw new NonRetryableError('bad input');
      },
    });
    const dependent = engine.registerTask({ name: 'dependent', dependencies: [doomed], fn: () => 1 });
    const blocked = engine.registerTask({
      name: 'blocked',
      fn: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    });
    engine.startTasks([doomed, dependent, blocked]);
    await expect(engine.waitForTask(dependent)).rejects.toMatchObject({ code: 'ERR_DEPENDENCY_FAILED' });
    engine.cancelTask(blocked, 'not needed');
    await expect(engine.waitForTask(blocked)).rejects.toMatchObject({ code: 'ERR_TASK_CANCELLED' });

    const failed = taskTree(traces, 'doomed');
    expect(failed.task.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad input' });
    expect(failed.task.attributes).toMatchObject({ 'error.type': 'ERR_NON_RETRYABLE', 'taskchart.task.status': 'FAILED' });
    expect(failed.task.events.map((event) => event.name)).toContain('exception');
    expect(failed.attempts[0]?.attributes).toMatchObject({ 'error.type': 'ERR_NON_RETRYABLE', 'taskchart.attempt.outcome': 'failed' });
    // The dependent never ran: a task span without attempts, failed with the dependency's failure.
    const never = taskTree(traces, 'dependent');
    expect(never.attempts).toHaveLength(0);
    expect(never.task.attributes).toMatchObject({ 'error.type': 'ERR_DEPENDENCY_FAILED', 'taskchart.task.status': 'FAILED' });
    // Cancelled: not an error, on the task or its attempt.
    const cancelled = taskTree(traces, 'blocked');
    expect(cancelled.task.status.code).toBe(SpanStatusCode.UNSET);
    expect(cancelled.task.attributes['taskchart.task.status']).toBe('CANCELLED');
    expect(cancelled.attempts[0]?.status.code).toBe(SpanStatusCode.UNSET);
    expect(cancelled.attempts[0]?.attributes['taskchart.attempt.outcome']).toBe('cancelled');
  });
});

describe.skipIf(unreachable !== undefined)('the span tree of a pipeline', () => {
  it('makes each task span the child of the context active at startTask and each attempt span its child, active inside the function in this thread, a pool thread and a remote worker', async () => {
    const { engine, traces, tracer, queueName, spansFile } = await remoteWorld();
    let calls = 0;
    const fetch = engine.registerTask({
      id: 'fetch',
      name: 'fetch',
      maxRetries: 2,
      retryDelay: 5,
      fn: async () => {
        if (++calls === 1) throw new Error('connection reset');
        await new Promise((resolve) => setTimeout(resolve, 1));
        return trace.getActiveSpan()?.spanContext().spanId;
      },
    });
    const crunch = engine.registerTask({
      name: 'crunch',
      executor: 'pool',
      module: POOL_MODULE,
      export: 'activeSpan',
      args: [21],
      dependencies: [fetch],
    });
    const sum = engine.registerTask({ name: 'sum', executor: 'remote', handler: 'sumInSpan', args: [40, 2], dependencies: [crunch] });
    const report = engine.registerTask({
      name: 'report',
      dependencies: [fetch, crunch, sum],
      // User code in the task: its own span is a child of the attempt's.
      fn: () => tracer.startActiveSpan('user work', (span) => (span.end(), 'reported')),
    });
    // As if handling an HTTP request: the tasks belong to its trace.
    const request = tracer.startActiveSpan('GET /pipeline', (span) => {
      engine.startTasks([fetch, crunch, sum, report]);
      span.end();
      return span;
    });
    const activeInFetch = await engine.waitForTask(fetch);
    const crunched = (await engine.waitForTask(crunch)) as { doubled: number; traceId: string; spanId: string; sampled: number };
    const summed = (await engine.waitForTask(sum)) as { sum: number; activeSpanId: string };
    await engine.waitForTask(report);

    const requestId = request.spanContext().spanId;
    const traceId = request.spanContext().traceId;
    const fetchTree = taskTree(traces, 'fetch');
    const crunchTree = taskTree(traces, 'crunch');
    const sumTree = taskTree(traces, 'sum');
    const reportTree = taskTree(traces, 'report');
    for (const tree of [fetchTree, crunchTree, sumTree, reportTree]) {
      expect(parentOf(tree.task)).toBe(requestId);
      expect(tree.task.spanContext().traceId).toBe(traceId);
      for (const attempt of tree.attempts) expect(parentOf(attempt)).toBe(idOf(tree.task));
    }
    // fetch: attempt 1 failed (ERROR), attempt 2 ran with its span active in the function, after an await.
    expect(fetchTree.attempts.map((span) => [span.attributes['taskchart.attempt'], span.kind])).toEqual([
      [1, SpanKind.INTERNAL],
      [2, SpanKind.INTERNAL],
    ]);
    expect(fetchTree.attempts[0]?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'connection reset' });
    expect(fetchTree.attempts[0]?.attributes).toMatchObject({ 'taskchart.attempt.outcome': 'failed', 'error.type': 'Error' });
    expect(fetchTree.attempts[1]?.status.code).toBe(SpanStatusCode.UNSET);
    expect(activeInFetch).toBe(idOf(fetchTree.attempts[1] as ReadableSpan));
    // The retry is an event on fetch's task span, with the attempt to come, its delay and the error.
    const retry = fetchTree.task.events.find((event) => event.name === 'taskchart.retry');
    expect(retry?.attributes).toEqual({
      'taskchart.attempt': 2,
      'taskchart.retry.delay_ms': 5,
      'error.type': 'Error',
      'exception.message': 'connection reset',
    });
    expect(fetchTree.task.attributes).toMatchObject({
      'taskchart.task.id': 'fetch',
      'taskchart.task.name': 'fetch',
      'taskchart.task.priority': 1,
      'taskchart.executor': 'async',
      'taskchart.task.status': 'COMPLETED',
    });
    expect(fetchTree.task.status.code).toBe(SpanStatusCode.UNSET);
    // crunch: in a pool worker thread the active span is crunch's attempt span (carried as W3C trace context).
    expect(crunched.doubled).toBe(42);
    expect(crunched).toMatchObject({ traceId, spanId: idOf(crunchTree.attempts[0] as ReadableSpan), sampled: 1 });
    expect(crunchTree.attempts[0]?.attributes['taskchart.executor']).toBe('pool');
    // sum: a PRODUCER attempt span here; in the worker process a CONSUMER span, its child, active around the
    // handler, and the handler's own span the consumer's child.
    const producer = sumTree.attempts[0] as ReadableSpan;
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(producer.attributes).toMatchObject({
      'messaging.system': 'bullmq',
      'messaging.destination.name': queueName,
      'messaging.operation.type': 'send',
      'taskchart.executor': 'remote',
      'taskchart.attempt': 1,
    });
    const remoteSpans = await exportedByWorker(spansFile, ['taskchart.attempt sum', 'remote user work']);
    const consumer = remoteSpans.find((span) => span.name === 'taskchart.attempt sum');
    expect(consumer).toMatchObject({ kind: SpanKind.CONSUMER, traceId, parentSpanId: idOf(producer) });
    expect(consumer?.attributes).toMatchObject({
      'messaging.system': 'bullmq',
      'messaging.destination.name': queueName,
      'messaging.operation.type': 'process',
      'taskchart.task.id': sum,
      'taskchart.attempt': 1,
      'taskchart.attempt.outcome': 'completed',
    });
    expect(remoteSpans.find((span) => span.name === 'remote user work')?.parentSpanId).toBe(consumer?.spanId);
    expect(summed).toEqual({ sum: 42, activeSpanId: consumer?.spanId });
    // report: the user's span is the child of report's attempt span.
    expect(parentOf(traces.one('user work'))).toBe(idOf(reportTree.attempts[0] as ReadableSpan));
    // Links: each task span links to its dependencies' task spans.
    const linked = (tree: { task: ReadableSpan }) => tree.task.links.map((link) => link.context.spanId).sort();
    expect(linked(fetchTree)).toEqual([]);
    expect(linked(crunchTree)).toEqual([idOf(fetchTree.task)]);
    expect(linked(sumTree)).toEqual([idOf(crunchTree.task)]);
    expect(linked(reportTree)).toEqual([idOf(fetchTree.task), idOf(crunchTree.task), idOf(sumTree.task)].sort());
  });

  it('ends the CONSUMER span of a remote handler that failed with ERROR and its code, as the task span', async () => {
    const { engine, traces, spansFile } = await remoteWorld();
    const failing = engine.registerTask({ name: 'remote-fail', executor: 'remote', handler: 'failWithCode' });
    engine.startTask(failing);
    await expect(engine.waitForTask(failing)).rejects.toMatchObject({ code: 'E_REMOTE_HANDLER' });

    const [consumer] = await exportedByWorker(spansFile, ['taskchart.attempt remote-fail']);
    const tree = taskTree(traces, 'remote-fail');
    expect(consumer?.parentSpanId).toBe(idOf(tree.attempts[0] as ReadableSpan));
    expect(consumer?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'the remote handler failed' });
    expect(consumer?.attributes).toMatchObject({ 'error.type': 'E_REMOTE_HANDLER', 'taskchart.attempt.outcome': 'failed' });
    expect(tree.attempts[0]?.attributes['error.type']).toBe('E_REMOTE_HANDLER');
    expect(tree.task.attributes['error.type']).toBe('E_REMOTE_HANDLER');
  });
});

describe.skipIf(unreachable !== undefined)('remote attempts run in a worker pool thread (taskchart worker --pool)', () => {
  it('makes the CONSUMER span the active span in the worker thread too', async () => {
    const { engine, traces, spansFile } = await remoteWorld(['--pool']);
    const sum = engine.registerTask({ name: 'sum', executor: 'remote', handler: 'sumInSpan', args: [1, 2] });
    engine.startTask(sum);
    const result = (await engine.waitForTask(sum)) as { sum: number; activeSpanId: string };

    const remoteSpans = await exportedByWorker(spansFile, ['taskchart.attempt sum', 'remote user work']);
    const consumer = remoteSpans.find((span) => span.name === 'taskchart.attempt sum');
    expect(consumer?.parentSpanId).toBe(idOf(taskTree(traces, 'sum').attempts[0] as ReadableSpan));
    // The handler ran in a thread of the worker's pool, which exported its own span: the consumer's child.
    expect(remoteSpans.find((span) => span.name === 'remote user work')?.parentSpanId).toBe(consumer?.spanId);
    expect(result).toEqual({ sum: 3, activeSpanId: consumer?.spanId });
  });
});

interface ExportedSpan {
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly attributes: Record<string, unknown>;
  readonly status: { code: number; message?: string };
}

/**
 * The spans the worker process exported to `file`, once those named `names` are there: the worker ends its
 * CONSUMER span just before it returns the job's result, so they are written by the time the engine has it,
 * but are read until present (bounded) rather than assumed.
 */
async function exportedByWorker(file: string, names: readonly string[]): Promise<ExportedSpan[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    const spans = text === '' ? [] : text.split('\n').map((line) => JSON.parse(line) as ExportedSpan);
    if (names.every((name) => spans.some((span) => span.name === name)) || Date.now() > deadline) return spans;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
