/**
 * taskchart/otel: OpenTelemetry traces and metrics for a TaskEngine (docs/observability.md). Needs the optional
 * peer dependency @opentelemetry/api; the rest of taskchart never imports it.
 */
export { instrument, type InstrumentOptions, type Instrumented } from './instrument.js';
export { ATTR as ATTRIBUTES, METRIC as METRICS, SPAN_EVENT as SPAN_EVENTS, type AttemptOutcome } from './names.js';
