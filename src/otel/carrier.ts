/**
 * An attempt's trace context as it travels to a pool thread or a remote worker: W3C Trace Context
 * (`traceparent`, `tracestate`), written by the global propagator when one is registered (and so with its
 * baggage too) and always with a `traceparent` of taskchart's own, so that an engine instrumented with only a
 * tracer provider still carries its traces; read back the same two ways on the other side.
 */
import { createTraceState, propagation, ROOT_CONTEXT, trace, TraceFlags, type Context, type SpanContext } from '@opentelemetry/api';

export type TraceCarrier = Readonly<Record<string, string>>;

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The carrier of `context` (whose span is the attempt's). */
export function inject(context: Context): TraceCarrier {
  const carrier: Record<string, string> = {};
  propagation.inject(context, carrier);
  const span = trace.getSpanContext(context);
  if (carrier.traceparent === undefined && span !== undefined) {
    carrier.traceparent = traceparentOf(span);
    const state = span.traceState?.serialize();
    if (state) carrier.tracestate = state;
  }
  return carrier;
}

/** The context a carrier describes (the attempt's span as a remote parent), on top of `base`. */
export function extract(carrier: TraceCarrier, base: Context = ROOT_CONTEXT): Context {
  const context = propagation.extract(base, carrier);
  if (trace.getSpanContext(context) !== undefined) return context;
  const parent = parseTraceparent(carrier.traceparent);
  if (parent === undefined) return context;
  const state = carrier.tracestate;
  return trace.setSpanContext(context, state ? { ...parent, traceState: createTraceState(state) } : parent);
}

export function traceparentOf(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A `traceparent` header's span context (remote), or undefined when it is not one (version 00, ids not all zero). */
export function parseTraceparent(value: unknown): SpanContext | undefined {
  if (typeof value !== 'string') return undefined;
  const match = TRACEPARENT.exec(value);
  if (match === null) return undefined;
  const [, traceId, spanId, flags] = match as unknown as [string, string, string, string];
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & TraceFlags.SAMPLED, isRemote: true };
}
