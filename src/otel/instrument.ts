/**
 * `instrument(engine)`: installs taskchart/otel's spans and metrics on an engine through its instrumentation seam
 * (src/instrumentation.ts), and `uninstrument()` takes them off again. What each task is (its name, executor and
 * when it was started) is kept here from `startTask` to its terminal status.
 */
import { metrics, trace, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import type { Subscription } from 'rxjs';
import { TaskEngine } from '../engine.js';
import type { TaskEvent } from '../events.js';
import { INSTRUMENT, type AttemptTarget, type Instrumentation, type InstrumentedTask } from '../instrumentation.js';
import type { TaskState } from '../machines/task.machine.js';
import { invalid, isPlainObject } from '../validate.js';
import { Metrics } from './metrics.js';
import { outcomeOf, SCOPE } from './names.js';
import { Tracing } from './tracing.js';

/** Where the spans and metrics go. */
export interface InstrumentOptions {
  /**
   * The tracer provider to use.
   * @default the global one of @opentelemetry/api (`trace.getTracerProvider()`)
   */
  readonly tracerProvider?: TracerProvider;
  /**
   * The meter provider to use.
   * @default the global one of @opentelemetry/api (`metrics.getMeterProvider()`)
   */
  readonly meterProvider?: MeterProvider;
}

/** An instrumented engine's handle. */
export interface Instrumented {
  /** Ends the open spans, stops the instruments' callbacks, and leaves the engine as it was. Idempotent. */
  uninstrument(): void;
}

/** What is kept of a started task, until its terminal status. */
interface Started {
  readonly name: string;
  readonly executor: string;
  readonly submittedAt: number | undefined;
  waited: boolean;
}

class OtelInstrumentation implements Instrumentation {
  readonly tracing: Tracing;
  metrics!: Metrics;
  readonly #tasks = new Map<string, Started>();

  constructor(tracing: Tracing) {
    this.tracing = tracing;
  }

  taskStarted(task: InstrumentedTask): void {
    this.#tasks.set(task.id, { name: task.name, executor: task.spec.executor, submittedAt: task.submittedAt, waited: false });
    this.tracing.taskStarted(task);
  }

  attemptBegun(task: InstrumentedTask, attempt: number, target: AttemptTarget, resumed: boolean) {
    return this.tracing.attemptBegun(task, attempt, target, resumed);
  }

  taskHeld(task: InstrumentedTask, hold: { readonly limiter: string; readonly key: string; readonly until: number | undefined }): void {
    this.tracing.taskHeld(task.id, hold);
  }

  attemptEnded(task: InstrumentedTask, state: TaskState, error: unknown, ran: boolean, now: number): void {
    const outcome = outcomeOf(state, error);
    // Measured when this instrumentation saw the attempt begin: not one in flight at instrument(), nor one of an
    // earlier process found interrupted by restore() (its end, the crash, is not known).
    const seen = this.tracing.attemptEnded(task.id, outcome, error);
    if (ran && seen) this.metrics.attemptRan((now - task.attemptStartedAt) / 1000, task.name, task.spec.executor, outcome);
  }

  event(event: TaskEvent): void {
    if (event.type === 'status') {
      const started = this.#tasks.get(event.taskId);
      if (event.status === 'RUNNING' && started !== undefined && !started.waited) {
        started.waited = true;
        if (started.submittedAt !== undefined)
          this.metrics.waited((event.timestamp - started.submittedAt) / 1000, started.name, started.executor);
      }
      if (event.status === 'COMPLETED' || event.status === 'FAILED' || event.status === 'CANCELLED') {
        this.#tasks.delete(event.taskId);
        this.metrics.finished(event.name, event.status);
      }
    }
    this.tracing.event(event);
  }
}

/**
 * Traces and measures an engine with OpenTelemetry: a span per task and per attempt, active inside the task
 * function wherever it runs, and the engine's metrics (docs/observability.md).
 *
 * @example
 * import { instrument } from 'taskchart/otel';
 * const engine = new TaskEngine({ concurrency: 4 });
 * const { uninstrument } = instrument(engine); // the global tracer and meter providers
 */
export function instrument(engine: TaskEngine, options?: InstrumentOptions): Instrumented {
  if (!(engine instanceof TaskEngine)) throw invalid('engine', 'a TaskEngine', engine);
  const { tracerProvider, meterProvider } = resolveOptions(options);
  const instrumentation = new OtelInstrumentation(new Tracing((tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE)));
  const host = engine[INSTRUMENT](instrumentation);
  instrumentation.metrics = new Metrics((meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE), host);
  let subscription: Subscription | undefined;
  const stop = () => {
    subscription?.unsubscribe();
    subscription = undefined;
    host.detach();
    instrumentation.metrics.stop();
    instrumentation.tracing.endAll();
  };
  // The engine's shutdown completes its events: the open spans end, and the instruments stop reading it.
  subscription = host.events.subscribe({ next: (event) => instrumentation.event(event), complete: stop });
  return { uninstrument: stop };
}

function resolveOptions(options: InstrumentOptions | undefined): InstrumentOptions {
  if (options === undefined) return {};
  if (!isPlainObject(options)) throw invalid('options', 'a plain object ({ tracerProvider?, meterProvider? })', options);
  const { tracerProvider, meterProvider } = options;
  if (tracerProvider !== undefined && typeof (tracerProvider as Partial<TracerProvider>).getTracer !== 'function') {
    throw invalid('tracerProvider', 'an OpenTelemetry TracerProvider (with getTracer())', tracerProvider);
  }
  if (meterProvider !== undefined && typeof (meterProvider as Partial<MeterProvider>).getMeter !== 'function') {
    throw invalid('meterProvider', 'an OpenTelemetry MeterProvider (with getMeter())', meterProvider);
  }
  return { tracerProvider: tracerProvider as TracerProvider | undefined, meterProvider: meterProvider as MeterProvider | undefined };
}
