// The OpenTelemetry SDK for the taskchart/otel example (docs/observability.md), set up on import: import it before
// anything else, in the main thread and in each pool thread (pipeline.worker.mjs imports it too: a worker thread is
// a realm of its own, with its own global context manager and tracer provider).
//
// - Context: the AsyncLocalStorage context manager, registered globally, so that the active span follows async
//   code (what NodeSDK registers too).
// - Traces: spans batched and sent by OTLP/HTTP (JSON) to a collector at http://localhost:4318/v1/traces, or where
//   the standard OTEL_EXPORTER_OTLP_ENDPOINT (…/v1/traces is appended) or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT says.
// - Metrics (main thread only: the engine measures pool tasks where it runs): a Prometheus endpoint at
//   http://localhost:9464/metrics, or on the port OTEL_EXPORTER_PROMETHEUS_PORT says.
//
// Needs: npm install @opentelemetry/api @opentelemetry/sdk-trace-base @opentelemetry/sdk-metrics \
//          @opentelemetry/context-async-hooks @opentelemetry/exporter-trace-otlp-http @opentelemetry/exporter-prometheus
// (OpenTelemetry JS 2.x and exporters 0.2xx on Node 20; 3.x needs Node 22.)
import { isMainThread } from 'node:worker_threads';
import { context, diag, DiagConsoleLogger, DiagLogLevel, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN); // say so when the collector cannot be reached

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

export const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
trace.setGlobalTracerProvider(tracerProvider);

/** The Prometheus endpoint's exporter (a metric reader that serves /metrics), in the main thread. */
export const prometheus = isMainThread ? new PrometheusExporter() : undefined;
export const meterProvider = prometheus === undefined ? undefined : new MeterProvider({ readers: [prometheus] });
if (meterProvider !== undefined) metrics.setGlobalMeterProvider(meterProvider);

/** Sends the spans ended so far. A pool thread calls it as each attempt ends: the pool terminates its threads at shutdown. */
export function flushSpans() {
  return tracerProvider.forceFlush();
}

/** Sends what is left and stops: the last spans go out, the /metrics endpoint closes. */
export async function shutdownTelemetry() {
  await Promise.all([tracerProvider.shutdown(), meterProvider?.shutdown()]);
}
