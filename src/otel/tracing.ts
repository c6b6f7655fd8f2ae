/**
 * The spans of taskchart/otel: one per task (`taskchart.task <name>`, from `startTask` to its terminal status,
 * child of the context active at `startTask`, linked to its dependencies' task spans) and one per attempt
 * (`taskchart.attempt <name>`, its child: INTERNAL, or PRODUCER when the executor sends it through a queue), with
 * span events for retries, cache hits, rate-limit pauses, stalls, missed deadlines and unavailable executors.
 */
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import type { TaskEvent } from '../events.js';
import type { AttemptScope, AttemptTarget, InstrumentedTask } from '../instrumentation.js';
import { inject } from './carrier.js';
import { ATTR, SPAN_EVENT, errorMessage, errorType, type AttemptOutcome } from './names.js';

interface TaskSpans {
  readonly span: Span;
  /** The context the task was started in (its span's parent): an attempt's context is built on it. */
  readonly parent: Context;
  readonly name: string;
  attempt: Span | undefined;
  /** Dependencies that had no span when this one opened: it is linked to theirs when they open. */
  awaiting: readonly string[] | undefined;
}

/**
 * Ended task spans are remembered for dependents started after their dependency ended to link to: the latest
 * 5,000 to 10,000, in two generations (a Map emptied from the front slows down: V8 keeps the deleted entries).
 */
const GENERATION = 5_000;

export class Tracing {
  readonly #tracer: Tracer;
  readonly #tasks = new Map<string, TaskSpans>();
  /** The span contexts of the latest ended task spans: this generation and the one before (GENERATION). */
  #ended = new Map<string, SpanContext>();
  #endedBefore = new Map<string, SpanContext>();
  /** By dependency id: the open spans of tasks started before it, to link to its span when it opens. */
  readonly #awaiting = new Map<string, Set<TaskSpans>>();

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  /** In the caller of `startTask`: the task's span, a child of the active context. */
  taskStarted(task: InstrumentedTask): void {
    this.#open(task, context.active());
  }

  attemptBegun(task: InstrumentedTask, attempt: number, target: AttemptTarget, resumed: boolean): AttemptScope {
    // A task started before the engine was instrumented, or restored from a store: its span starts a trace now.
    const spans = this.#tasks.get(task.id) ?? this.#open(task, ROOT_CONTEXT);
    spans.attempt?.end(); // not expected: an attempt's end is always reported
    const attributes: Attributes = {
      [ATTR.TASK_ID]: task.id,
      [ATTR.TASK_NAME]: task.name,
      [ATTR.ATTEMPT]: attempt,
      [ATTR.EXECUTOR]: target.executor,
    };
    if (resumed) attributes[ATTR.ATTEMPT_RESUMED] = true;
    const messaging = target.messaging;
    if (messaging !== undefined) {
      attributes[ATTR.MESSAGING_SYSTEM] = messaging.system;
      attributes[ATTR.MESSAGING_DESTINATION] = messaging.destination;
      attributes[ATTR.MESSAGING_OPERATION_TYPE] = 'send';
      attributes[ATTR.MESSAGING_OPERATION_NAME] = 'add'; // BullMQ's Queue.add
    }
    const kind = messaging === undefined ? SpanKind.INTERNAL : SpanKind.PRODUCER;
    const span = this.#tracer.startSpan(`taskchart.attempt ${task.name}`, { kind, attributes }, trace.setSpan(spans.parent, spans.span));
    spans.attempt = span;
    const active = trace.setSpan(spans.parent, span);
    return { carrier: inject(active), run: (fn) => context.with(active, fn) };
  }

  /** A per-key limit holds the task back: an event on its task span, with the key and, for a time, until when. */
  taskHeld(taskId: string, hold: { readonly limiter: string; readonly key: string; readonly until: number | undefined }): void {
    const span = this.#tasks.get(taskId)?.span;
    if (span === undefined) return;
    const attributes: Attributes = { [ATTR.LIMITER]: hold.limiter, [ATTR.LIMIT_KEY]: hold.key };
    if (hold.until !== undefined) attributes[ATTR.LIMIT_UNTIL] = new Date(hold.until).toISOString();
    span.addEvent(SPAN_EVENT.LIMIT_WAIT, attributes);
  }

  /** Ends the attempt's span; false when it has none (it began before instrument(), or in an earlier process). */
  attemptEnded(taskId: string, outcome: AttemptOutcome, error: unknown): boolean {
    const spans = this.#tasks.get(taskId);
    const span = spans?.attempt;
    if (spans === undefined || span === undefined) return false;
    spans.attempt = undefined;
    span.setAttribute(ATTR.ATTEMPT_OUTCOME, outcome);
    if (outcome === 'stalled') span.addEvent(SPAN_EVENT.STALLED, errorAttributes(error));
    if (outcome !== 'completed' && outcome !== 'cancelled') setError(span, error);
    span.end();
    return true;
  }

  event(event: TaskEvent): void {
    const spans = this.#tasks.get(event.taskId);
    if (spans === undefined) return;
    const span = spans.span;
    switch (event.type) {
      case 'status':
        if (event.cached === true) {
          span.setAttribute(ATTR.TASK_CACHED, true);
          span.addEvent(SPAN_EVENT.CACHE_HIT);
        }
        if (event.status === 'COMPLETED' || event.status === 'FAILED' || event.status === 'CANCELLED') {
          this.#close(event.taskId, spans, event.status, event.error);
        }
        break;
      case 'retry':
        span.addEvent(SPAN_EVENT.RETRY, {
          [ATTR.ATTEMPT]: event.attempt,
          [ATTR.RETRY_DELAY]: event.delay,
          ...errorAttributes(event.error),
        });
        break;
      case 'rate-limited':
        span.addEvent(SPAN_EVENT.RATE_LIMIT_PAUSE, {
          [ATTR.LIMITER]: event.limiter,
          [ATTR.LIMIT_KEY]: event.key,
          [ATTR.PAUSED_UNTIL]: new Date(event.until).toISOString(),
        });
        break;
      case 'deadline':
        span.addEvent(SPAN_EVENT.DEADLINE_MISSED, { [ATTR.DEADLINE]: event.deadline });
        break;
      case 'executor-wait': {
        const attributes: Attributes = { [ATTR.EXECUTOR]: event.executor, [ATTR.EXECUTOR_WAITING]: event.waiting };
        (spans.attempt ?? span).addEvent(
          SPAN_EVENT.EXECUTOR_WAIT,
          event.error === undefined ? attributes : { ...attributes, ...errorAttributes(event.error) },
        );
        break;
      }
    }
  }

  /** Ends every open span (the engine shut down, or it is uninstrumented): nothing is left unexported. */
  endAll(): void {
    for (const [taskId, spans] of this.#tasks) this.#close(taskId, spans, undefined, undefined);
    this.#awaiting.clear();
    this.#ended = new Map();
    this.#endedBefore = new Map();
  }

  /** The task's span, linked to its dependencies' spans: open or recently ended ones now, the others when they open. */
  #open(task: InstrumentedTask, parent: Context): TaskSpans {
    const links: Link[] = [];
    let awaiting: string[] | undefined;
    for (const dependency of task.dependencies) {
      const linked = this.#tasks.get(dependency)?.span.spanContext() ?? this.#ended.get(dependency) ?? this.#endedBefore.get(dependency);
      if (linked !== undefined) links.push({ context: linked });
      else (awaiting ??= []).push(dependency);
    }
    const attributes: Attributes = {
      [ATTR.TASK_ID]: task.id,
      [ATTR.TASK_NAME]: task.name,
      [ATTR.TASK_PRIORITY]: task.priority,
      [ATTR.EXECUTOR]: task.spec.executor,
    };
    const span = this.#tracer.startSpan(`taskchart.task ${task.name}`, { kind: SpanKind.INTERNAL, attributes, links }, parent);
    const spans: TaskSpans = { span, parent, name: task.name, attempt: undefined, awaiting };
    this.#tasks.set(task.id, spans);
    for (const dependency of awaiting ?? []) {
      let dependents = this.#awaiting.get(dependency);
      if (dependents === undefined) this.#awaiting.set(dependency, (dependents = new Set()));
      dependents.add(spans);
    }
    const dependents = this.#awaiting.get(task.id);
    if (dependents !== undefined) {
      this.#awaiting.delete(task.id);
      for (const dependent of dependents) dependent.span.addLink({ context: span.spanContext() });
    }
    return spans;
  }

  #close(taskId: string, spans: TaskSpans, status: string | undefined, error: unknown): void {
    this.#tasks.delete(taskId);
    for (const dependency of spans.awaiting ?? []) {
      const dependents = this.#awaiting.get(dependency);
      dependents?.delete(spans);
      if (dependents?.size === 0) this.#awaiting.delete(dependency);
    }
    if (this.#ended.size === GENERATION) {
      this.#endedBefore = this.#ended;
      this.#ended = new Map();
    }
    this.#ended.set(taskId, spans.span.spanContext());
    spans.attempt?.end();
    const span = spans.span;
    if (status !== undefined) span.setAttribute(ATTR.TASK_STATUS, status);
    if (status === 'FAILED') {
      if (error instanceof Error) span.recordException(error);
      setError(span, error);
    }
    span.end();
  }
}

/** ERROR status with the error's code as `error.type` (cancellations never come here). */
function setError(span: Span, error: unknown): void {
  span.setAttribute(ATTR.ERROR_TYPE, errorType(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
}

function errorAttributes(error: unknown): Attributes {
  return { [ATTR.ERROR_TYPE]: errorType(error), [ATTR.EXCEPTION_MESSAGE]: errorMessage(error) };
}
