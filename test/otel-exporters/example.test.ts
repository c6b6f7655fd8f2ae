/**
 * examples/otel, the setup docs/observability.md copies, run as a user runs it (`node examples/otel/pipeline.mjs
 * --keep-open`, dist/ as built: `npm run build` first) with the standard environment variables pointing its OTLP
 * exporter at a stand-in collector and its Prometheus endpoint at a free port on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { attributesOf, freePort, OtlpCollector, parseExposition } from './collector.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('examples/otel/pipeline.mjs', () => {
  it('serves its metrics for Prometheus, and sends one trace whose pool-thread span is a child of the pool attempt', async () => {
    const collector = await OtlpCollector.start();
    cleanups.push(() => collector.close());
    const port = await freePort();
    const child = spawn(process.execPath, ['examples/otel/pipeline.mjs', '--keep-open'], {
      cwd: ROOT,
      env: {
        ...process.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'close');
    cleanups.push(() => child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('Ctrl-C to stop')) resolve();
      });
      void exited.then(([code]) =>
        reject(new Error(`the example ended (exit ${String(code)}) before serving its metrics:\n${stdout}${stderr}`)),
      );
    });
    expect(stdout).toContain('report: 2 rows, checksum ');
    expect(stdout).toContain(`metrics at http://localhost:${port}/metrics`);

    const samples = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    const finished = samples.filter((sample) => sample.name === 'taskchart_task_finished_total');
    expect(finished.map((sample) => [sample.labels.taskchart_task_name, sample.labels.taskchart_task_status, sample.value]).sort()).toEqual(
      [
        ['checksum', 'COMPLETED', 1],
        ['fetch', 'COMPLETED', 1],
        ['report', 'COMPLETED', 1],
      ],
    );
    const poolAttempts = samples.find(
      (sample) => sample.name === 'taskchart_attempt_duration_count' && sample.labels.taskchart_executor === 'pool',
    );
    expect(poolAttempts?.value).toBe(1);

    child.kill('SIGINT');
    const [code] = await exited;
    expect(code, stderr).toBe(0);
    expect(stderr).toBe('');

    const spans = collector.spans();
    expect(spans.map((span) => span.name).sort()).toEqual([
      'GET /report',
      'sha256 rounds',
      'taskchart.attempt checksum',
      'taskchart.attempt fetch',
      'taskchart.attempt fetch',
      'taskchart.attempt report',
      'taskchart.task checksum',
      'taskchart.task fetch',
      'taskchart.task report',
    ]);
    const root = collector.one('GET /report');
    expect(stdout).toContain(`trace ${root.traceId} sent to ${collector.endpoint}`);
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([root.traceId]));
    const checksumAttempt = collector.one('taskchart.attempt checksum');
    expect(attributesOf(checksumAttempt.attributes)).toMatchObject({ 'taskchart.executor': 'pool' });
    const inThread = collector.one('sha256 rounds');
    expect(inThread.parentSpanId).toBe(checksumAttempt.spanId);
    expect(attributesOf(inThread.attributes)).toEqual({ 'example.rounds': 200_000 });
    const downloaded = spans.filter((span) => span.name === 'taskchart.attempt fetch').flatMap((span) => span.events.map((e) => e.name));
    expect(downloaded).toEqual(['downloaded']);
  });
});
