// taskchart/otel, end to end: a small pipeline traced and measured with OpenTelemetry (docs/observability.md).
//
//   npm run build && node examples/otel/pipeline.mjs [--keep-open]
//
//   GET /report            a SERVER span, as an HTTP framework would make it: the trace's one root
//     fetch                async; its first attempt fails (a simulated 503) and is retried
//     checksum             pool: runs in a worker thread, with a span of its own there
//     report               depends on both
//
// Spans go to an OTLP/HTTP collector (tracing.mjs): http://localhost:4318/v1/traces, or OTEL_EXPORTER_OTLP_ENDPOINT.
// Jaeger is one:  docker run --rm -p 16686:16686 -p 4318:4318 jaegertracing/all-in-one  (then http://localhost:16686)
// Metrics are served for Prometheus at http://localhost:9464/metrics (OTEL_EXPORTER_PROMETHEUS_PORT) while it runs;
// --keep-open keeps serving them after the run, until Ctrl-C. Nothing else goes to the network.
import { shutdownTelemetry } from './tracing.mjs'; // first: the SDK is in place before anything makes a span
import { SpanKind, trace } from '@opentelemetry/api';
import { TaskEngine } from 'taskchart';
import { instrument } from 'taskchart/otel';

const engine = new TaskEngine({ concurrency: 4, pool: { maxWorkers: 2 } });
const { uninstrument } = instrument(engine); // the global tracer and meter providers, registered by tracing.mjs

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

const fetchId = engine.registerTask({
  name: 'fetch',
  args: ['https://example.com/data.csv'], // never fetched: the download is simulated
  maxRetries: 2,
  retryDelay: 100,
  fn: async (ctx, url) => {
    await sleep(80, ctx.signal);
    if (ctx.attempt === 1) throw new Error(`503 Service Unavailable: ${url}`);
    trace.getActiveSpan()?.addEvent('downloaded', { 'example.bytes': 4096 }); // the active span is the attempt's
    return 'city,celsius\noslo,6\nrome,16';
  },
});
const checksumId = engine.registerTask({
  name: 'checksum',
  module: new URL('./pipeline.worker.mjs', import.meta.url), // executor: 'pool'
  export: 'checksum',
  args: ['taskchart', 200_000],
});
const reportId = engine.registerTask({
  name: 'report',
  dependencies: [fetchId, checksumId],
  fn: (ctx) => {
    const [csv, digest] = ctx.dependencies.map((dependency) => dependency.result);
    return `${csv.split('\n').length - 1} rows, checksum ${digest.slice(0, 12)}`;
  },
});

// The tasks are started inside a request's span: their spans are its children, and the whole run is one trace.
const tracer = trace.getTracer('taskchart-example');
const attributes = { 'http.request.method': 'GET', 'url.path': '/report' };
const { report, traceId } = await tracer.startActiveSpan('GET /report', { kind: SpanKind.SERVER, attributes }, async (span) => {
  try {
    engine.startTasks([fetchId, checksumId, reportId]);
    return { report: await engine.waitForTask(reportId), traceId: span.spanContext().traceId };
  } finally {
    span.end();
  }
});
console.log(`report: ${report}`);
console.log(`trace ${traceId} sent to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318'}`);

if (process.argv.includes('--keep-open')) {
  const port = process.env.OTEL_EXPORTER_PROMETHEUS_PORT ?? 9464;
  console.log(`metrics at http://localhost:${port}/metrics; Ctrl-C to stop`);
  await new Promise((resolve) => process.once('SIGINT', resolve));
}
await engine.shutdown();
uninstrument();
await shutdownTelemetry(); // the last batch of spans goes out here
