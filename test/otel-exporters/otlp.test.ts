/**
 * The OTLP setup of docs/observability.md, for real: a BasicTracerProvider with a BatchSpanProcessor and
 * @opentelemetry/exporter-trace-otlp-http's OTLPTraceExporter (OTLP/HTTP, JSON), sending to a stand-in collector on
 * 127.0.0.1; what it receives after forceFlush is read as a trace backend would read it. The engine's clock is
 * simulated (its retry backoff moves when the test says); the spans' times are the SDK's.
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { instrument } from '../../src/otel/index.js';
import type { TaskContext } from '../../src/index.js';
import { simulatedEngine } from '../helpers.js';
import { attributesOf, OtlpCollector, type ReceivedSpan } from './collector.js';

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  context.disable();
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function otlpSetup() {
  const collector = await OtlpCollector.start();
  const exporter = new OTLPTraceExporter({ url: `${collector.endpoint}/v1/traces` });
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  cleanups.push(
    () => collector.close(),
    () => tracerProvider.shutdown(),
  );
  return { collector, tracerProvider };
}

const SPAN_KIND = { INTERNAL: 1, SERVER: 2 };
const STATUS_ERROR = 2;

describe('taskchart/otel spans sent by an OTLPTraceExporter to a collector', () => {
  it('sends the task and attempt spans of a run, started in a request span, as one trace (OTLP/HTTP JSON on /v1/traces)', async () => {
    const { collector, tracerProvider } = await otlpSetup();
    const { engine, advance } = simulatedEngine({ concurrency: 4 });
    const { uninstrument } = instrument(engine, { tracerProvider });
    cleanups.push(uninstrument, () => engine.shutdown());

    const fetchId = engine.registerTask({
      name: 'fetch',
      maxRetries: 1,
      retryDelay: 1000,
      fn: (ctx) => {
        if (ctx.attempt === 1) throw new Error('503 Service Unavailable');
        return 'a,b\n1,2';
      },
    });
    const parseId = engine.registerTask({
      name: 'parse',
      dependencies: [fetchId],
      fn: (ctx) => String(ctx.dependencies[0]?.result).length,
    });
    const request = tracerProvider.getTracer('test').startSpan('GET /report', { kind: SpanKind.SERVER });
    context.with(trace.setSpan(context.active(), request), () => engine.startTasks([fetchId, parseId]));
    await advance(0);
    await advance(1000); // the retry's backoff
    expect(await engine.waitForTask(parseId)).toBe(7);
    request.end();
    await tracerProvider.forceFlush();

    expect(collector.requests.length).toBeGreaterThan(0);
    for (const received of collector.requests) {
      expect(received.path).toBe('/v1/traces');
      expect(received.contentType).toBe('application/json');
    }
    const spans = collector.spans();
    expect(spans.map((span) => span.name).sort()).toEqual([
      'GET /report',
      'taskchart.attempt fetch',
      'taskchart.attempt fetch',
      'taskchart.attempt parse',
      'taskchart.task fetch',
      'taskchart.task parse',
    ]);
    const root = collector.one('GET /report');
    expect(root.parentSpanId ?? '').toBe('');
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([root.traceId]));
    for (const span of spans.filter((s) => s.name.startsWith('taskchart.'))) {
      expect(span.scope).toBe('taskchart');
      expect(span.kind).toBe(SPAN_KIND.INTERNAL);
    }

    const fetchTask = collector.one('taskchart.task fetch');
    const parseTask = collector.one('taskchart.task parse');
    expect(fetchTask.parentSpanId).toBe(root.spanId);
    expect(parseTask.parentSpanId).toBe(root.spanId);
    expect(attributesOf(fetchTask.attributes)).toMatchObject({
      'taskchart.task.id': fetchId,
      'taskchart.task.name': 'fetch',
      'taskchart.executor': 'async',
      'taskchart.task.status': 'COMPLETED',
    });
    expect(fetchTask.status.code).not.toBe(STATUS_ERROR);
    expect(parseTask.links).toEqual([expect.objectContaining({ traceId: root.traceId, spanId: fetchTask.spanId })]);

    const [first, second] = attemptsOf(spans, 'fetch');
    expect(first?.parentSpanId).toBe(fetchTask.spanId);
    expect(second?.parentSpanId).toBe(fetchTask.spanId);
    expect(attributesOf(first?.attributes ?? [])).toMatchObject({
      'taskchart.attempt': 1,
      'taskchart.attempt.outcome': 'failed',
      'error.type': 'Error',
    });
    expect(first?.status).toMatchObject({ code: STATUS_ERROR, message: '503 Service Unavailable' });
    expect(attributesOf(second?.attributes ?? [])).toMatchObject({ 'taskchart.attempt': 2, 'taskchart.attempt.outcome': 'completed' });
    expect(second?.status.code).not.toBe(STATUS_ERROR);

    const retry = fetchTask.events.find((event) => event.name === 'taskchart.retry');
    expect(attributesOf(retry?.attributes ?? [])).toMatchObject({
      'taskchart.attempt': 2,
      'taskchart.retry.delay_ms': 1000,
      'error.type': 'Error',
      'exception.message': '503 Service Unavailable',
    });
  });

  it('sends a FAILED task as an ERROR span with its error code as error.type, and a cancelled one without error', async () => {
    const { collector, tracerProvider } = await otlpSetup();
    const { engine, advance } = simulatedEngine({ concurrency: 2 });
    const { uninstrument } = instrument(engine, { tracerProvider });
    cleanups.push(uninstrument, () => engine.shutdown());

    const untilAborted = (ctx: TaskContext) =>
      new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    const slow = engine.registerTask({ name: 'slow', timeout: 500, fn: untilAborted });
    const unwanted = engine.registerTask({ name: 'unwanted', fn: untilAborted });
    engine.startTasks([slow, unwanted]);
    await advance(0);
    await engine.cancelTask(unwanted, 'not needed any more');
    await advance(500);
    await expect(engine.waitForTask(slow)).rejects.toMatchObject({ code: 'ERR_TASK_TIMEOUT' });
    await tracerProvider.forceFlush();

    const failed = collector.one('taskchart.task slow');
    expect(failed.status).toMatchObject({ code: STATUS_ERROR });
    expect(attributesOf(failed.attributes)).toMatchObject({ 'taskchart.task.status': 'FAILED', 'error.type': 'ERR_TASK_TIMEOUT' });
    expect(failed.events.map((event) => event.name)).toContain('exception');
    const timedOut = collector.one('taskchart.attempt slow');
    expect(timedOut.status.code).toBe(STATUS_ERROR);
    expect(attributesOf(timedOut.attributes)).toMatchObject({ 'taskchart.attempt.outcome': 'timeout', 'error.type': 'ERR_TASK_TIMEOUT' });

    const cancelled = collector.one('taskchart.task unwanted');
    expect(cancelled.status.code).not.toBe(STATUS_ERROR);
    expect(attributesOf(cancelled.attributes)).toMatchObject({ 'taskchart.task.status': 'CANCELLED' });
    expect(attributesOf(cancelled.attributes)).not.toHaveProperty('error.type');
    const cancelledAttempt = collector.one('taskchart.attempt unwanted');
    expect(cancelledAttempt.status.code).not.toBe(STATUS_ERROR);
    expect(attributesOf(cancelledAttempt.attributes)).toMatchObject({ 'taskchart.attempt.outcome': 'cancelled' });
  });
});

/** The attempt spans of the task named `name`, by attempt number. */
function attemptsOf(spans: readonly ReceivedSpan[], name: string): ReceivedSpan[] {
  return spans
    .filter((span) => span.name === `taskchart.attempt ${name}`)
    .sort((a, b) => Number(attributesOf(a.attributes)['taskchart.attempt']) - Number(attributesOf(b.attributes)['taskchart.attempt']));
}
