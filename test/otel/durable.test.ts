/**
 * taskchart/otel on a durable engine (a real SqliteStore): the same spans and metrics as in memory, although a
 * durable task's events wait for the store's commit; and across a suspend and restore(), where a resumed task's
 * span starts a new trace at its first attempt in the new process.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import type { TaskContext } from '../../src/index.js';
import { instrument } from '../../src/otel/index.js';
import { durableEngine, tempDbPath } from '../durable/helpers.js';
import { TestQueue } from '../fixtures/test-queue.js';
import { flush } from '../helpers.js';
import { idOf, Metrics, parentOf, Traces, useContextManager } from './sdk.js';

useContextManager();

describe('a durable engine', () => {
  it('gives the same span tree and counts: task spans under the caller, attempts under their task, the retry as an event', async () => {
    const traces = new Traces();
    const metrics = new Metrics();
    const { engine, advance } = durableEngine(tempDbPath());
    instrument(engine, { tracerProvider: traces.provider, meterProvider: metrics.provider });
    engine.defineTask('flaky', (ctx: TaskContext) => {
      if (ctx.attempt === 1) throw new Error('lock timeout');
      return ctx.attempt;
    });
    engine.defineTask('after', () => 'after');
    engine.registerTasks([
      { id: 'flaky', name: 'flaky', handler: 'flaky', maxRetries: 1, retryDelay: 50 },
      { id: 'after', name: 'after', handler: 'after', dependencies: ['flaky'] },
    ]);
    const request = traces.provider.getTracer('test').startActiveSpan('batch', (span) => {
      engine.startTasks(['flaky', 'after']);
      span.end();
      return span;
    });
    await flush();
    await advance(50);
    expect(await engine.waitForTask('after')).toBe('after');

    const flaky = traces.one('taskchart.task flaky');
    const after = traces.one('taskchart.task after');
    expect([parentOf(flaky), parentOf(after)]).toEqual([request.spanContext().spanId, request.spanContext().spanId]);
    const attempts = traces.all('taskchart.attempt flaky');
    expect(attempts.map((span) => [span.attributes['taskchart.attempt'], parentOf(span), span.status.code])).toEqual([
      [1, idOf(flaky), SpanStatusCode.ERROR],
      [2, idOf(flaky), SpanStatusCode.UNSET],
    ]);
    expect(flaky.events.map((event) => event.name)).toEqual(['taskchart.retry']);
    expect(after.links.map((link) => link.context.spanId)).toEqual([idOf(flaky)]);
    expect(await metrics.value('taskchart.task.finished', { 'taskchart.task.name': 'flaky', 'taskchart.task.status': 'COMPLETED' })).toBe(
      1,
    );
    const wait = await metrics.histogram('taskchart.task.wait.duration', { 'taskchart.task.name': 'after', 'taskchart.executor': 'async' });
    expect(wait).toMatchObject({ count: 1, sum: 0.05 }); // it waited for flaky's backoff
    await engine.shutdown();
  });

  it('ends the spans of tasks a suspend leaves unfinished, and gives each resumed task a new root span in the next process', async () => {
    const path = tempDbPath();
    const before = new Traces();
    const first = durableEngine(path);
    instrument(first.engine, { tracerProvider: before.provider });
    first.engine.defineTask('work', () => new Promise(() => {}));
    first.engine.registerTasks([
      { id: 'running', name: 'running', handler: 'work' },
      { id: 'waiting', name: 'waiting', handler: 'work', dependencies: ['running'] },
    ]);
    first.engine.startTasks(['running', 'waiting']);
    await flush();
    await first.engine.shutdown({ mode: 'suspend' });
    expect(
      before
        .spans()
        .map((span) => span.name)
        .sort(),
    ).toEqual(['taskchart.attempt running', 'taskchart.task running', 'taskchart.task waiting']);
    expect(before.one('taskchart.task running').attributes['taskchart.task.status']).toBeUndefined(); // not finished: suspended

    const after = new Traces();
    const second = durableEngine(path);
    instrument(second.engine, { tracerProvider: after.provider });
    second.engine.defineTask('work', (ctx: TaskContext) => ctx.id);
    await second.engine.restore();
    await second.engine.onIdle();
    for (const name of ['running', 'waiting']) {
      const task = after.one(`taskchart.task ${name}`);
      expect(parentOf(task)).toBeUndefined();
      expect(task.attributes['taskchart.task.status']).toBe('COMPLETED');
      expect(parentOf(after.one(`taskchart.attempt ${name}`))).toBe(idOf(task));
    }
    await second.engine.shutdown();
  });

  it('measures only the attempts it saw begin: an attempt interrupted by a crash is not timed, its free re-run is', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('hold', () => new Promise(() => {}));
    first.engine.registerTask({ id: 'b', name: 'b', handler: 'hold' });
    first.engine.startTask('b');
    await flush();
    first.crash();

    const traces = new Traces();
    const metrics = new Metrics();
    const second = durableEngine(path);
    instrument(second.engine, { tracerProvider: traces.provider, meterProvider: metrics.provider });
    second.engine.defineTask('hold', () => 'held');
    expect(await second.engine.restore()).toMatchObject({ interrupted: 1, rerunFree: 1 });
    second.advance(0);
    expect(await second.engine.waitForTask('b')).toBe('held');
    const points = await metrics.points('taskchart.attempt.duration');
    expect(points.map((point) => point.attributes['taskchart.attempt.outcome'])).toEqual(['completed']);
    expect(traces.all('taskchart.attempt b').map((span) => span.attributes['taskchart.attempt'])).toEqual([2]);
    await second.engine.shutdown();
  });

  it('marks an attempt handed back to a deferred-start executor after restore() as resumed, and carries its trace context to it', async () => {
    const path = tempDbPath();
    const first = durableEngine(path, { executors: { remote: new TestQueue() } });
    first.engine.registerTask({ id: 'render', name: 'render', executor: 'remote', handler: 'render' });
    first.engine.startTask('render');
    await flush();
    first.crash();

    const traces = new Traces();
    const queue = new TestQueue();
    const second = durableEngine(path, { executors: { remote: queue } });
    instrument(second.engine, { tracerProvider: traces.provider });
    expect(await second.engine.restore()).toMatchObject({ reattached: 1 });
    await flush();
    const request = queue.request('render');
    queue.take('render');
    queue.finish('render', 'frame');
    expect(await second.engine.waitForTask('render')).toBe('frame');
    const attempt = traces.one('taskchart.attempt render');
    expect(attempt.attributes).toMatchObject({ 'taskchart.attempt': 1, 'taskchart.attempt.resumed': true, 'taskchart.executor': 'remote' });
    expect(parentOf(attempt)).toBe(idOf(traces.one('taskchart.task render')));
    // The executor is given the attempt span's W3C trace context, to carry to wherever it runs the attempt.
    const [version, traceId, spanId, flags] = (request.trace?.traceparent ?? '').split('-');
    expect([version, traceId, spanId, flags]).toEqual(['00', attempt.spanContext().traceId, idOf(attempt), '01']);
    await second.engine.shutdown();
  });
});
