/**
 * The instruments of taskchart/otel: wait and attempt durations (histograms, seconds), finished tasks (a counter
 * by status), and queued, running and limit-held tasks (asynchronous up-down counters read from the engine's own
 * counts when a reader collects, so they cost nothing between collections). Limit-held tasks are counted by
 * limiter, never by key: keys are unbounded.
 */
import type { Attributes, Counter, Histogram, Meter, ObservableCallback, ObservableUpDownCounter } from '@opentelemetry/api';
import type { InstrumentationHost } from '../instrumentation.js';
import { ATTR, METRIC, type AttemptOutcome } from './names.js';

/** Bucket bounds for task durations, in seconds: OpenTelemetry's HTTP ones (5 ms to 10 s), then up to an hour. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 300, 900, 3600];

export class Metrics {
  readonly #wait: Histogram;
  readonly #attempt: Histogram;
  readonly #finished: Counter;
  readonly #observers: Array<readonly [ObservableUpDownCounter, ObservableCallback]> = [];

  constructor(meter: Meter, host: InstrumentationHost) {
    const advice = { explicitBucketBoundaries: DURATION_BUCKETS };
    this.#wait = meter.createHistogram(METRIC.WAIT_DURATION, {
      description: 'Time from startTask to the first attempt running.',
      unit: 's',
      advice,
    });
    this.#attempt = meter.createHistogram(METRIC.ATTEMPT_DURATION, { description: 'Time an attempt ran.', unit: 's', advice });
    this.#finished = meter.createCounter(METRIC.FINISHED, { description: 'Tasks that reached a terminal status.', unit: '{task}' });
    this.#observe(meter, METRIC.QUEUED, 'Started tasks ready to run, waiting for a slot, a worker or a resource.', (result) =>
      result.observe(host.stats().queued),
    );
    this.#observe(meter, METRIC.RUNNING, 'Tasks RUNNING now (an attempt executing).', (result) => result.observe(host.stats().running));
    this.#observe(meter, METRIC.LIMIT_WAITING, 'Queued tasks a per-key limit holds back, by limiter.', (result) => {
      for (const [limiter, count] of host.heldByLimiter()) result.observe(count, { [ATTR.LIMITER]: limiter });
    });
  }

  waited(seconds: number, name: string, executor: string): void {
    this.#wait.record(seconds, { [ATTR.TASK_NAME]: name, [ATTR.EXECUTOR]: executor });
  }

  attemptRan(seconds: number, name: string, executor: string, outcome: AttemptOutcome): void {
    this.#attempt.record(seconds, { [ATTR.TASK_NAME]: name, [ATTR.EXECUTOR]: executor, [ATTR.ATTEMPT_OUTCOME]: outcome });
  }

  finished(name: string, status: string): void {
    const attributes: Attributes = { [ATTR.TASK_NAME]: name, [ATTR.TASK_STATUS]: status };
    this.#finished.add(1, attributes);
  }

  /** Stops the asynchronous instruments' callbacks (uninstrument). */
  stop(): void {
    for (const [instrument, callback] of this.#observers.splice(0)) instrument.removeCallback(callback);
  }

  #observe(meter: Meter, name: string, description: string, callback: ObservableCallback): void {
    const instrument = meter.createObservableUpDownCounter(name, { description, unit: '{task}' });
    instrument.addCallback(callback);
    this.#observers.push([instrument, callback]);
  }
}
