/**
 * The Prometheus setup of docs/observability.md, for real: a MeterProvider whose reader is
 * @opentelemetry/exporter-prometheus's PrometheusExporter, serving /metrics on 127.0.0.1, scraped over HTTP while
 * and after an instrumented engine runs. The engine's clock is simulated, so the durations it measures are exact.
 */
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { afterEach, describe, expect, it } from 'vitest';
import { instrument } from '../../src/otel/index.js';
import { deferred, simulatedEngine } from '../helpers.js';
import { freePort, parseExposition, type Sample } from './collector.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An engine on a simulated clock, instrumented with a meter provider whose reader is a started PrometheusExporter. */
async function prometheusEngine(options: Parameters<typeof simulatedEngine>[0]) {
  const port = await freePort();
  const exporter = new PrometheusExporter({ host: '127.0.0.1', port });
  await exporter.startServer(); // the constructor started it: this awaits the same start
  const meterProvider = new MeterProvider({ readers: [exporter] });
  const { engine, advance } = simulatedEngine(options);
  const { uninstrument } = instrument(engine, { meterProvider });
  cleanups.push(
    () => meterProvider.shutdown(),
    uninstrument,
    () => engine.shutdown(),
  );
  const url = `http://127.0.0.1:${port}/metrics`;
  return { engine, advance, url, scrape: () => scrape(url) };
}

async function scrape(url: string): Promise<{ text: string; samples: Sample[] }> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  const text = await response.text();
  return { text, samples: parseExposition(text) };
}

/** The value of the one sample named `name` whose labels include `labels`. */
function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (found.length > 1) throw new Error(`${found.length} samples ${name} ${JSON.stringify(labels)}: ${JSON.stringify(found)}`);
  return found[0]?.value;
}

describe('taskchart/otel metrics scraped from a PrometheusExporter', () => {
  it('exposes finished tasks as the counter taskchart_task_finished_total, by task name and status', async () => {
    const { engine, scrape } = await prometheusEngine({ concurrency: 4 });
    const ok = ['a', 'b', 'c'].map((id) => engine.registerTask({ id, name: 'resize', fn: () => id }));
    const bad = engine.registerTask({
      name: 'upload',
      fn: () => {
        throw new Error('disk full');
      },
    });
    engine.startTasks([...ok, bad]);
    await engine.onIdle();

    const { text, samples } = await scrape();
    expect(text).toContain('# TYPE taskchart_task_finished_total counter');
    expect(text).toMatch(
      /^taskchart_task_finished_total\{taskchart_task_name="resize",taskchart_task_status="COMPLETED",otel_scope_name="taskchart"\} 3$/m,
    );
    expect(valueOf(samples, 'taskchart_task_finished_total', { taskchart_task_name: 'upload', taskchart_task_status: 'FAILED' })).toBe(1);
    expect(samples.filter((sample) => sample.name === 'taskchart_task_finished_total')).toHaveLength(2);
  });

  it('exposes attempt and wait durations as histograms in seconds (taskchart_attempt_duration, taskchart_task_wait_duration)', async () => {
    const { engine, advance, scrape } = await prometheusEngine({ concurrency: 2 });
    const gates = [deferred(), deferred(), deferred()];
    const ids = gates.map((gate, i) => engine.registerTask({ id: `r${i}`, name: 'resize', fn: () => gate.promise }));
    engine.startTasks(ids); // two run at once: the third waits for a slot
    await advance(250);
    gates[0]?.resolve('done');
    gates[1]?.resolve('done');
    await advance(500); // r2 ran at 250 ms, after waiting 250 ms; it ends at 750 ms
    gates[2]?.resolve('done');
    await engine.onIdle();

    const { text, samples } = await scrape();
    // The exporter names a histogram after the instrument (no unit suffix) and states the unit on its own line.
    expect(text).toContain('# TYPE taskchart_attempt_duration histogram');
    expect(text).toContain('# UNIT taskchart_attempt_duration s');
    expect(text).toContain('# TYPE taskchart_task_wait_duration histogram');
    const attempt = { taskchart_task_name: 'resize', taskchart_executor: 'async', taskchart_attempt_outcome: 'completed' };
    expect(valueOf(samples, 'taskchart_attempt_duration_count', attempt)).toBe(3);
    expect(valueOf(samples, 'taskchart_attempt_duration_sum', attempt)).toBeCloseTo(0.25 + 0.25 + 0.5, 9);
    expect(valueOf(samples, 'taskchart_attempt_duration_bucket', { ...attempt, le: '0.1' })).toBe(0);
    expect(valueOf(samples, 'taskchart_attempt_duration_bucket', { ...attempt, le: '0.25' })).toBe(2);
    expect(valueOf(samples, 'taskchart_attempt_duration_bucket', { ...attempt, le: '0.5' })).toBe(3);
    expect(valueOf(samples, 'taskchart_attempt_duration_bucket', { ...attempt, le: '3600' })).toBe(3);
    expect(valueOf(samples, 'taskchart_attempt_duration_bucket', { ...attempt, le: '+Inf' })).toBe(3);
    const wait = { taskchart_task_name: 'resize', taskchart_executor: 'async' };
    expect(valueOf(samples, 'taskchart_task_wait_duration_count', wait)).toBe(3);
    expect(valueOf(samples, 'taskchart_task_wait_duration_sum', wait)).toBeCloseTo(0.25, 9);
    expect(text).not.toMatch(/_seconds/);
  });

  it('exposes queued, running and limit-held tasks as gauges read at each scrape', async () => {
    const { engine, scrape } = await prometheusEngine({ concurrency: 2, limits: { site: { concurrency: 1 } } });
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const ids = [
      engine.registerTask({ name: 'crawl', limits: { site: 'a.example' }, fn: () => gates[0]?.promise }),
      engine.registerTask({ name: 'crawl', limits: { site: 'a.example' }, fn: () => gates[1]?.promise }), // held by its key
      engine.registerTask({ name: 'parse', fn: () => gates[2]?.promise }),
      engine.registerTask({ name: 'parse', fn: () => gates[3]?.promise }), // no slot left
    ];
    engine.startTasks(ids);

    const during = (await scrape()).samples;
    expect(valueOf(during, 'taskchart_task_running')).toBe(2);
    expect(valueOf(during, 'taskchart_task_queued')).toBe(2);
    expect(valueOf(during, 'taskchart_limit_waiting', { taskchart_limiter: 'site' })).toBe(1);

    for (const gate of gates) gate.resolve('done');
    await engine.onIdle();
    const { text, samples } = await scrape();
    expect(text).toContain('# TYPE taskchart_task_running gauge');
    expect(valueOf(samples, 'taskchart_task_running')).toBe(0);
    expect(valueOf(samples, 'taskchart_task_queued')).toBe(0);
    expect(valueOf(samples, 'taskchart_limit_waiting', { taskchart_limiter: 'site' })).toBe(0);
  });
});
