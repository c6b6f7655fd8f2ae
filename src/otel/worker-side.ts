/**
 * The other end of an attempt's trace context, in a pool thread and in a remote `taskchart worker`: imported (by
 * load.ts) only when an attempt arrives with a carrier, so a thread or a worker that is never sent one never loads
 * @opentelemetry/api. What the thread or process records depends on its own OpenTelemetry setup (its global
 * tracer provider and context manager), as for any code running there.
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { extract, inject, type TraceCarrier } from './carrier.js';
import { ATTR, errorType, SCOPE } from './names.js';

/** A pool thread: `fn` runs with the attempt's span (made in the engine's thread) as the active span. */
export function activate<T>(carrier: TraceCarrier, fn: () => T): T {
  return context.with(extract(carrier), fn);
}

/** What a remote worker knows of the attempt it runs. */
export interface ConsumedAttempt {
  readonly taskId: string;
  readonly name: string;
  readonly attempt: number;
  readonly queue: string;
  readonly jobId: string;
}

/** How the attempt ended, for the consumer span's status: an error (not a cancellation) makes it ERROR. */
export interface ConsumedOutcome {
  readonly status: 'ok' | 'error' | 'cancelled';
  readonly error?: { readonly name?: string; readonly message?: string; readonly code?: string | number };
}

/**
 * A remote worker: a CONSUMER span (`taskchart.attempt <name>`), child of the engine's PRODUCER attempt span, is
 * the active span while `fn` runs (and `fn` is given its carrier, for a `--pool` thread); it ends with `fn`'s outcome.
 */
export async function consume<T extends ConsumedOutcome>(
  carrier: TraceCarrier,
  attempt: ConsumedAttempt,
  fn: (consumer: TraceCarrier) => Promise<T>,
): Promise<T> {
  const attributes: Attributes = {
    [ATTR.TASK_ID]: attempt.taskId,
    [ATTR.TASK_NAME]: attempt.name,
    [ATTR.ATTEMPT]: attempt.attempt,
    [ATTR.MESSAGING_SYSTEM]: 'bullmq',
    [ATTR.MESSAGING_DESTINATION]: attempt.queue,
    [ATTR.MESSAGING_OPERATION_TYPE]: 'process',
    [ATTR.MESSAGING_OPERATION_NAME]: 'process',
    [ATTR.MESSAGING_MESSAGE_ID]: attempt.jobId,
  };
  const parent = extract(carrier);
  const span = trace.getTracer(SCOPE).startSpan(`taskchart.attempt ${attempt.name}`, { kind: SpanKind.CONSUMER, attributes }, parent);
  try {
    const active = trace.setSpan(parent, span);
    const outcome = await context.with(active, () => fn(inject(active)));
    if (outcome.status === 'error') {
      const error = outcome.error;
      span.setAttribute(ATTR.ERROR_TYPE, errorType(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error?.message });
    }
    span.setAttribute(
      ATTR.ATTEMPT_OUTCOME,
      outcome.status === 'ok' ? 'completed' : outcome.status === 'cancelled' ? 'cancelled' : 'failed',
    );
    return outcome;
  } finally {
    span.end();
  }
}
