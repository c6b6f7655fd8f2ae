/**
 * taskchart/otel's span events and attempt outcomes for what happens between attempts (docs/observability.md):
 * cache hits, rate-limit pauses, stalls, timeouts, missed deadlines; and how instrument() attaches to an engine
 * and leaves it (tasks started before it, uninstrument, shutdown, bad input). On XState's SimulatedClock.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { ExecutorUnavailableError, RateLimitedError, TaskEngine } from '../../src/index.js';
import { TestQueue } from '../fixtures/test-queue.js';
import { instrument } from '../../src/otel/index.js';
import { deferred } from '../helpers.js';
import { idOf, instrumentedSimulation, Metrics, parentOf, Traces, useContextManager } from './sdk.js';

useContextManager();

const eventNames = (span: ReadableSpan) => span.events.map((event) => event.name);

describe('span events', () => {
  it('marks a task completed from the results cache with a cache-hit event and no attempt span', async () => {
    const { engine, traces } = instrumentedSimulation();
    const spec = { name: 'summarise', fn: (_ctx: unknown, text: string) => text.length, args: ['a long text'] as [string], cache: true };
    const first = engine.registerTask(spec);
    engine.startTask(first);
    await engine.waitForTask(first);
    const second = engine.registerTask(spec);
    engine.startTask(second);
    expect(await engine.waitForTask(second)).toBe(11);

    const [ran, hit] = traces.all('taskchart.task summarise');
    expect(ran?.attributes['taskchart.task.id']).toBe(first);
    expect(hit?.attributes).toMatchObject({
      'taskchart.task.id': second,
      'taskchart.task.cached': true,
      'taskchart.task.status': 'COMPLETED',
    });
    expect(eventNames(hit as ReadableSpan)).toEqual(['taskchart.cache.hit']);
    expect(eventNames(ran as ReadableSpan)).toEqual([]);
    const attempts = traces.all('taskchart.attempt summarise');
    expect(attempts.map((span) => span.attributes['taskchart.task.id'])).toEqual([first]);
  });

  it('records a rate-limit pause on the task span, with limiter, key and until, and the attempt as rate_limited', async () => {
    const { engine, traces, advance, clock } = instrumentedSimulation({ limits: { api: { concurrency: 2 } } });
    const id = engine.registerTask({
      name: 'call api',
      limits: { api: 'tenant-7' },
      fn: (ctx) => {
        if (ctx.attempt === 1) throw new RateLimitedError({ retryAfter: 500 });
        return 'ok';
      },
    });
    engine.startTask(id);
    await advance(0);
    const pausedAt = clock.now();
    await advance(500);
    expect(await engine.waitForTask(id)).toBe('ok');

    const task = traces.one('taskchart.task call api');
    const pause = task.events.find((event) => event.name === 'taskchart.rate_limit.pause');
    expect(pause?.attributes).toEqual({
      'taskchart.limiter': 'api',
      'taskchart.limit.key': 'tenant-7',
      'taskchart.rate_limit.until': new Date(pausedAt + 500).toISOString(),
    });
    const [limited, ran] = traces.all('taskchart.attempt call api');
    expect(limited?.attributes).toMatchObject({
      'taskchart.attempt': 1,
      'taskchart.attempt.outcome': 'rate_limited',
      'error.type': 'ERR_RATE_LIMITED',
    });
    expect(ran?.attributes).toMatchObject({ 'taskchart.attempt': 2, 'taskchart.attempt.outcome': 'completed' });
  });

  it('records a task held back by a per-key limit on its task span: the key, and until when for a rate window', async () => {
    const { engine, traces, advance, clock } = instrumentedSimulation({
      limits: { tenant: { concurrency: 1 }, api: { rate: { limit: 1, interval: 1_000 } } },
    });
    const gate = deferred<void>();
    const [first, second, third, fourth] = engine.registerTasks([
      { id: 'first', name: 'first', limits: { tenant: 'acme' }, fn: () => gate.promise },
      { id: 'second', name: 'second', limits: { tenant: 'acme' }, fn: () => 'second' },
      { id: 'third', name: 'third', limits: { api: 'eu' }, fn: () => 'third' },
      { id: 'fourth', name: 'fourth', limits: { api: 'eu' }, fn: () => 'fourth' },
    ]);
    const startedAt = clock.now();
    engine.startTasks([first, second, third, fourth] as string[]);
    await advance(0);
    gate.resolve();
    await advance(1_000);
    await engine.onIdle();
    const waits = (name: string) =>
      traces
        .one(`taskchart.task ${name}`)
        .events.filter((event) => event.name === 'taskchart.limit.wait')
        .map((event) => event.attributes);
    expect(waits('second')).toEqual([{ 'taskchart.limiter': 'tenant', 'taskchart.limit.key': 'acme' }]);
    expect(waits('fourth')).toEqual([
      { 'taskchart.limiter': 'api', 'taskchart.limit.key': 'eu', 'taskchart.limit.until': new Date(startedAt + 1_000).toISOString() },
    ]);
    expect(waits('first')).toEqual([]);
    expect(waits('third')).toEqual([]);
  });

  it('records a stall on the attempt span (outcome stalled, ERR_TASK_STALLED) and a timeout as outcome timeout', async () => {
    const { engine, traces, advance } = instrumentedSimulation();
    const hung = engine.registerTask({
      name: 'hung',
      maxRetries: 1,
      retryDelay: 10,
      heartbeatTimeout: 500,
      fn: () => new Promise(() => {}),
    });
    const slow = engine.registerTask({ name: 'slow', timeout: 100, fn: () => new Promise(() => {}) });
    engine.startTasks([hung, slow]);
    const outcomes = Promise.allSettled([engine.waitForTask(hung), engine.waitForTask(slow)]);
    await advance(500);
    await advance(10);
    await advance(500);
    await outcomes;

    const stalled = traces.all('taskchart.attempt hung');
    expect(stalled.map((span) => span.attributes['taskchart.attempt.outcome'])).toEqual(['stalled', 'stalled']);
    expect(eventNames(stalled[0] as ReadableSpan)).toEqual(['taskchart.attempt.stalled']);
    expect(stalled[0]?.events[0]?.attributes).toMatchObject({ 'error.type': 'ERR_TASK_STALLED' });
    expect(stalled[0]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(traces.one('taskchart.task hung').attributes['error.type']).toBe('ERR_TASK_STALLED');
    expect(traces.one('taskchart.attempt slow').attributes).toMatchObject({
      'taskchart.attempt.outcome': 'timeout',
      'error.type': 'ERR_TASK_TIMEOUT',
    });
  });

  it('records a missed deadline on the task span, which runs on', async () => {
    const { engine, traces, advance } = instrumentedSimulation();
    const gate = deferred<string>();
    const id = engine.registerTask({ name: 'report', deadline: 1_000, fn: () => gate.promise });
    engine.startTask(id);
    await advance(1_000);
    gate.resolve('late');
    await engine.waitForTask(id);
    const task = traces.one('taskchart.task report');
    expect(task.events.map((event) => [event.name, event.attributes])).toEqual([
      ['taskchart.deadline.missed', { 'taskchart.deadline_ms': 1_000 }],
    ]);
    expect(task.status.code).toBe(SpanStatusCode.UNSET);
  });
});

describe('links and executor waits', () => {
  it('links a task span to its dependencies: started before it, after it, or already finished when it starts', async () => {
    const traces = new Traces();
    const engine = new TaskEngine();
    instrument(engine, { tracerProvider: traces.provider });
    const early = engine.registerTask({ name: 'early', fn: () => 1 });
    engine.startTask(early);
    await engine.waitForTask(early); // ended before its dependent starts
    const late = engine.registerTask({ name: 'late', fn: () => 2 });
    const both = engine.registerTask({ name: 'both', dependencies: [early, late], fn: () => 3 });
    engine.startTask(both); // `late` is not started yet: linked when it is
    engine.startTask(late);
    await engine.waitForTask(both);
    await engine.shutdown();
    const links = traces.one('taskchart.task both').links.map((link) => link.context.spanId);
    expect(links.sort()).toEqual([idOf(traces.one('taskchart.task early')), idOf(traces.one('taskchart.task late'))].sort());
  });

  it('records an executor that cannot take an attempt now, and takes it later, as wait events on the attempt span', async () => {
    const traces = new Traces();
    const queue = new TestQueue();
    const engine = new TaskEngine({ executors: { remote: queue } });
    instrument(engine, { tracerProvider: traces.provider });
    const id = engine.registerTask({ name: 'render', executor: 'remote', handler: 'render' });
    engine.startTask(id);
    await new Promise((resolve) => setImmediate(resolve));
    const request = queue.request(id);
    request.unavailable(new ExecutorUnavailableError('Redis at 127.0.0.1:6379 is unreachable'));
    request.unavailable(undefined);
    queue.take(id);
    queue.finish(id, 'frame');
    await engine.waitForTask(id);
    await engine.shutdown();
    const attempt = traces.one('taskchart.attempt render');
    expect(attempt.events.map((event) => [event.name, event.attributes])).toEqual([
      [
        'taskchart.executor.wait',
        {
          'taskchart.executor': 'remote',
          'taskchart.executor.waiting': true,
          'error.type': 'ERR_EXECUTOR_UNAVAILABLE',
          'exception.message': 'Redis at 127.0.0.1:6379 is unreachable',
        },
      ],
      ['taskchart.executor.wait', { 'taskchart.executor': 'remote', 'taskchart.executor.waiting': false }],
    ]);
  });
});

describe('instrument() and uninstrument()', () => {
  it('gives a task started before instrument() its task span at its next attempt, as the root of a new trace, and times only that attempt', async () => {
    const traces = new Traces();
    const metrics = new Metrics();
    const engine = new TaskEngine();
    const gate = deferred<void>();
    let calls = 0;
    const id = engine.registerTask({
      name: 'early',
      maxRetries: 1,
      retryDelay: 0,
      fn: async () => {
        if (++calls === 1) {
          await gate.promise;
          throw new Error('first attempt fails');
        }
        return 'second';
      },
    });
    engine.startTask(id);
    instrument(engine, { tracerProvider: traces.provider, meterProvider: metrics.provider });
    gate.resolve();
    await engine.waitForTask(id);
    await engine.shutdown();
    const task = traces.one('taskchart.task early');
    expect(parentOf(task)).toBeUndefined();
    // The first attempt began before instrument(): only the second has a span.
    expect(traces.all('taskchart.attempt early').map((span) => [span.attributes['taskchart.attempt'], parentOf(span)])).toEqual([
      [2, idOf(task)],
    ]);
    const timed = await metrics.points('taskchart.attempt.duration');
    expect(timed.map((point) => point.attributes['taskchart.attempt.outcome'])).toEqual(['completed']);
  });

  it('ends the open spans at uninstrument() and records nothing after it; the engine runs on, and can be instrumented again', async () => {
    const traces = new Traces();
    const engine = new TaskEngine();
    const instrumented = instrument(engine, { tracerProvider: traces.provider });
    const gate = deferred<string>();
    const id = engine.registerTask({ name: 'long', fn: () => gate.promise });
    engine.startTask(id);
    await new Promise((resolve) => setImmediate(resolve));
    expect(traces.spans()).toEqual([]);
    instrumented.uninstrument();
    instrumented.uninstrument(); // idempotent
    expect(
      traces
        .spans()
        .map((span) => span.name)
        .sort(),
    ).toEqual(['taskchart.attempt long', 'taskchart.task long']);
    gate.resolve('done');
    expect(await engine.waitForTask(id)).toBe('done');
    const later = engine.registerTask({ name: 'later', fn: () => 1 });
    engine.startTask(later);
    await engine.waitForTask(later);
    expect(traces.spans()).toHaveLength(2);
    const again = new Traces();
    instrument(engine, { tracerProvider: again.provider });
    const third = engine.registerTask({ name: 'third', fn: () => 1 });
    engine.startTask(third);
    await engine.waitForTask(third);
    await engine.shutdown();
    expect(
      again
        .spans()
        .map((span) => span.name)
        .sort(),
    ).toEqual(['taskchart.attempt third', 'taskchart.task third']);
  });

  it('ends the spans of the tasks a shutdown cancels, and stops reading the engine once it is shut down', async () => {
    const traces = new Traces();
    const metrics = new Metrics();
    const engine = new TaskEngine();
    instrument(engine, { tracerProvider: traces.provider, meterProvider: metrics.provider });
    const id = engine.registerTask({
      name: 'forever',
      fn: (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', resolve)),
    });
    engine.startTask(id);
    await engine.shutdown({ mode: 'cancel' });
    expect(traces.one('taskchart.task forever').attributes['taskchart.task.status']).toBe('CANCELLED');
    expect(traces.one('taskchart.attempt forever').attributes['taskchart.attempt.outcome']).toBe('cancelled');
    // The instruments' callbacks are gone: the SDK exports the last value it observed (none), not the engine's.
    expect(await metrics.points('taskchart.task.running')).toEqual([]);
  });

  it('refuses a second instrument() of the same engine, and bad arguments, naming the field', () => {
    const engine = new TaskEngine();
    const first = instrument(engine);
    expect(() => instrument(engine)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', field: 'engine' }));
    first.uninstrument();
    expect(() => instrument({} as TaskEngine)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', field: 'engine' }));
    expect(() => instrument(engine, 'yes' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', field: 'options' }));
    expect(() => instrument(engine, { tracerProvider: {} as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', field: 'tracerProvider', message: expect.stringContaining('getTracer') }),
    );
    expect(() => instrument(engine, { meterProvider: 1 as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', field: 'meterProvider' }),
    );
    void engine.shutdown();
  });
});
