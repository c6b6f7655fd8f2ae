/**
 * taskchart/otel's metrics with the real SDK (sdk-metrics, in-memory exporter), asserted by value on an engine
 * whose clock the test moves (XState's SimulatedClock): wait and attempt durations, finished tasks by status,
 * queued and running tasks, and tasks a per-key limit holds back, by limiter.
 */
import { describe, expect, it } from 'vitest';
import { TaskEngine } from '../../src/index.js';
import { instrument } from '../../src/otel/index.js';
import { deferred } from '../helpers.js';
import { instrumentedSimulation, Metrics, useContextManager } from './sdk.js';

useContextManager();

describe('metrics', () => {
  it('measures wait and attempt durations in seconds by task name, executor and outcome, and counts finished tasks by status', async () => {
    const { engine, metrics, advance } = instrumentedSimulation({ concurrency: 1 });
    const first = deferred<string>();
    let flakyCalls = 0;
    const a = engine.registerTask({ name: 'extract', fn: () => first.promise });
    const b = engine.registerTask({
      name: 'load',
      maxRetries: 1,
      retryDelay: 100,
      fn: async () => {
        if (++flakyCalls === 1) throw new Error('deadlock');
        return 'loaded';
      },
    });
    const c = engine.registerTask({
      name: 'load',
      fn: () => {
        throw new Error('constraint violated');
      },
    });
    engine.startTasks([a, b, c]);
    await advance(250); // extract runs 250 ms; load waits for the one slot
    first.resolve('extracted');
    await advance(0);
    await advance(100); // load's backoff
    await engine.waitForTask(b);
    await expect(engine.waitForTask(c)).rejects.toThrow('constraint violated');

    const wait = (name: string) =>
      metrics.histogram('taskchart.task.wait.duration', { 'taskchart.task.name': name, 'taskchart.executor': 'async' });
    expect(await wait('extract')).toMatchObject({ count: 1, sum: 0 });
    // Both `load` tasks waited for extract's one slot; a retry's backoff is not waiting to start.
    expect(await wait('load')).toMatchObject({ count: 2, sum: 0.5 });
    const attempt = (name: string, outcome: string) =>
      metrics.histogram('taskchart.attempt.duration', {
        'taskchart.task.name': name,
        'taskchart.executor': 'async',
        'taskchart.attempt.outcome': outcome,
      });
    expect(await attempt('extract', 'completed')).toMatchObject({ count: 1, sum: 0.25, min: 0.25, max: 0.25 });
    expect(await attempt('load', 'failed')).toMatchObject({ count: 2, sum: 0 });
    expect(await attempt('load', 'completed')).toMatchObject({ count: 1, sum: 0 });
    const finished = (name: string, status: string) =>
      metrics.value('taskchart.task.finished', { 'taskchart.task.name': name, 'taskchart.task.status': status });
    expect(await finished('extract', 'COMPLETED')).toBe(1);
    expect(await finished('load', 'COMPLETED')).toBe(1);
    expect(await finished('load', 'FAILED')).toBe(1);
    expect(await finished('extract', 'FAILED')).toBeUndefined();
    const descriptor = (await metrics.points('taskchart.attempt.duration')).length;
    expect(descriptor).toBe(3);
  });

  it('reports queued and running tasks, and the tasks each limiter holds back (by limiter, never by key), when collected', async () => {
    const { engine, metrics, advance } = instrumentedSimulation({
      concurrency: 3,
      limits: { tenant: { concurrency: 1 }, region: { concurrency: 5 } },
    });
    const gates = [deferred<void>(), deferred<void>(), deferred<void>(), deferred<void>(), deferred<void>()];
    const ids = gates.map((gate, i) =>
      engine.registerTask({ name: `job ${i}`, limits: { tenant: i < 3 ? 'acme' : `t${i}` }, fn: () => gate.promise }),
    );
    const unlimited = engine.registerTask({ name: 'extra', fn: () => undefined });
    engine.startTasks([...ids, unlimited]);
    await advance(0);
    // acme: job 0 runs, jobs 1 and 2 are held; jobs 3, 4 (their own keys) run; extra waits for a slot.
    expect(await metrics.value('taskchart.task.running', {})).toBe(3);
    expect(await metrics.value('taskchart.task.queued', {})).toBe(3);
    expect(await metrics.value('taskchart.limit.waiting', { 'taskchart.limiter': 'tenant' })).toBe(2);
    expect(await metrics.value('taskchart.limit.waiting', { 'taskchart.limiter': 'region' })).toBe(0);
    for (const gate of gates) gate.resolve();
    await advance(0);
    await engine.onIdle();
    expect(await metrics.value('taskchart.task.running', {})).toBe(0);
    expect(await metrics.value('taskchart.task.queued', {})).toBe(0);
    expect(await metrics.value('taskchart.limit.waiting', { 'taskchart.limiter': 'tenant' })).toBe(0);
  });

  it('reads the engine no more after uninstrument(): its counts are no longer observed', async () => {
    const metrics = new Metrics();
    const engine = new TaskEngine();
    const { uninstrument } = instrument(engine, { meterProvider: metrics.provider });
    const gate = deferred<void>();
    const id = engine.registerTask({ name: 'long', fn: () => gate.promise });
    engine.startTask(id);
    expect(await metrics.value('taskchart.task.running', {})).toBe(1);
    uninstrument();
    gate.resolve();
    await engine.waitForTask(id);
    expect(engine.getStats().running).toBe(0);
    // The SDK keeps the last value it observed (cumulative); the engine's callback is gone, so it stays at 1.
    expect(await metrics.value('taskchart.task.running', {})).toBe(1);
    expect(
      await metrics.value('taskchart.task.finished', { 'taskchart.task.name': 'long', 'taskchart.task.status': 'COMPLETED' }),
    ).toBeUndefined();
    await engine.shutdown();
  });
});
