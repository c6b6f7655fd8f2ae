/**
 * Scenario: what taskchart/otel costs (issue 17). 20,000 no-op tasks (the throughput scenario's shape: four
 * priority levels, concurrency 64), under each runtime: an engine that is not instrumented; one instrumented with
 * no OpenTelemetry SDK registered (the API's no-op tracer and meter: what a library user who never set up
 * OpenTelemetry pays); and one instrumented with the real SDK (sdk-trace-base with a BatchSpanProcessor whose
 * exporter discards, sdk-metrics with a reader), every span recorded and every metric kept. Interleaved rounds.
 * That the uninstrumented engine did not move is an A/B against the build before the issue (bench/analysis.md).
 */
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { instrument } from '../../dist/otel/index.js';
import { RUNTIMES, peerName } from '../runtimes.mjs';
import { interleavedRounds, median } from '../stats.mjs';
import { CONCURRENCY, timeTaskchart } from './throughput.mjs';

/** An exporter that drops what it is given, at once: the SDK's own cost, not a network's. */
const discarding = { export: (_spans, done) => done({ code: 0 }), shutdown: () => Promise.resolve(), forceFlush: () => Promise.resolve() };

/** `tasks` no-op tasks under `runtime` (the throughput scenario's timing); `mode`: none, api (no SDK), sdk. */
function timeTasks(tasks, runtime, mode) {
  if (mode === 'none') return timeTaskchart(tasks, runtime);
  return timeTaskchart(tasks, runtime, (engine) => {
    const providers = mode === 'sdk' ? sdkProviders() : undefined;
    const instrumented = instrument(engine, providers);
    return async () => {
      instrumented.uninstrument();
      await providers?.tracerProvider.shutdown();
      await providers?.meterProvider.shutdown();
    };
  });
}

/** The real SDK: every span recorded (batched, then dropped), every metric kept (read by a reader). */
function sdkProviders() {
  return {
    tracerProvider: new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(discarding, { maxQueueSize: 65_536 })] }),
    meterProvider: new MeterProvider({
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
          exportIntervalMillis: 3_600_000,
        }),
      ],
    }),
  };
}

const MODES = [
  { mode: 'none', label: 'not instrumented' },
  { mode: 'api', label: 'instrumented, no SDK registered' },
  { mode: 'sdk', label: 'instrumented, real SDK (every span and metric recorded)' },
];

export async function run({ quick }) {
  const tasks = quick ? 2_000 : 20_000;
  const rounds = quick ? 1 : 5;
  const peers = RUNTIMES.flatMap((runtime) =>
    MODES.map(({ mode, label }) => ({ name: `${peerName(runtime)}, ${label}`, time: (n) => timeTasks(n, runtime, mode) })),
  );
  const samples = await interleavedRounds(peers, tasks, rounds);
  const us = Object.fromEntries(peers.map((peer) => [peer.name, median(samples[peer.name])]));
  const bare = (name) => `${name.slice(0, name.indexOf(','))}, not instrumented`;
  return {
    id: 'otel',
    title: `${tasks.toLocaleString('en-US')} no-op tasks, not instrumented and instrumented with taskchart/otel (concurrency ${CONCURRENCY})`,
    columns: [
      { key: 'peer', label: 'peer' },
      { key: 'usPerTask', label: 'µs per task (median)', digits: 2 },
      { key: 'ratio', label: '× not instrumented, same runtime', digits: 2 },
    ],
    rows: peers.map((peer) => ({ peer: peer.name, usPerTask: us[peer.name], ratio: us[peer.name] / us[bare(peer.name)] })),
    targets: RUNTIMES.flatMap((runtime) =>
      MODES.slice(1).map(({ label }) => {
        const value = us[`${peerName(runtime)}, ${label}`];
        const base = us[`${peerName(runtime)}, not instrumented`];
        return {
          name: `${peerName(runtime)}, ${label}: µs per task (reported; the uninstrumented engine's A/B is in the analysis)`,
          value: `${value.toFixed(2)} µs (+${(value - base).toFixed(2)} µs, ${(value / base).toFixed(2)}×)`,
          met: true,
        };
      }),
    ),
    chart: { field: 'usPerTask', label: 'µs per task (lower is better)' },
    notes: [
      `Median of ${rounds} round${rounds === 1 ? '' : 's'}, all six peers interleaved in every round. An instrumented task gets a task span and an attempt span (two spans, a context for the attempt and a W3C carrier for it), a wait and an attempt duration recorded, a finished count; the queued, running and limit gauges are read only when a reader collects. The SDK rows include the SDK's own span creation and batching; the exporter drops the batches, so no network or encoding is counted.`,
    ],
    samples,
  };
}
