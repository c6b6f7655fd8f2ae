/**
 * taskchart/otel: OpenTelemetry traces and metrics for a TaskEngine (docs/observability.md). Needs the optional
 * peer dependency @opentelemetry/api, which the rest of taskchart never imports; importing this entry point
 * without it throws a MissingDependencyError naming what to install.
 */
import { missingPeers } from '../peer-dependencies.js';
import type { instrument as instrumentFunction } from './instrument.js';

/** The optional peer dependency of this entry point, with the range taskchart's package.json gives it. */
const PEER_DEPENDENCIES: Readonly<Record<string, string>> = { '@opentelemetry/api': '^1.3.0' };

const loaded = await import('./instrument.js').catch(async (error: unknown) => {
  throw (await missingPeers('taskchart/otel', PEER_DEPENDENCIES, error)) ?? error;
});

/**
 * Traces and measures an engine with OpenTelemetry: a span per task and per attempt, active inside the task
 * function wherever it runs, and the engine's metrics (docs/observability.md). Returns `{ uninstrument() }`.
 *
 * @example
 * import { instrument } from 'taskchart/otel';
 * const engine = new TaskEngine({ concurrency: 4 });
 * const { uninstrument } = instrument(engine); // the global tracer and meter providers of @opentelemetry/api
 */
export const instrument: typeof instrumentFunction = loaded.instrument;
export type { InstrumentOptions, Instrumented } from './instrument.js';
export { ATTR as ATTRIBUTES, METRIC as METRICS, SPAN_EVENT as SPAN_EVENTS, type AttemptOutcome } from './names.js';
