// Draws docs/images/trace.png: the trace taskchart/otel makes of a small pipeline (the one of examples/otel, plus a
// cache hit), as a waterfall rendered in Debian's Chromium.
//
//   npm run build && node scripts/render-trace.mjs [out.png]
//
// The pipeline runs in this process, inside a request span, with the engine instrumented by a tracer provider whose
// spans stay in memory (InMemorySpanExporter); the pool thread posts the span it makes to this thread. Nothing goes
// to the network: the page is self-contained and the browser is refused any request.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BroadcastChannel } from 'node:worker_threads';
import { context, SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { chromium } from 'playwright-core';
import { TaskEngine } from 'taskchart';
import { instrument } from 'taskchart/otel';
import { plainSpan, SPANS_CHANNEL, tracePage } from './render-trace.page.mjs';

const CHROMIUM = '/usr/bin/chromium';
const output = process.argv[2] ?? fileURLToPath(new URL('../docs/images/trace.png', import.meta.url));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or a rejection with `message` after `ms` (a timer cleared when it settles). */
function within(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs the pipeline in a request span; resolves with every finished span, the pool thread's included. */
async function tracedRun() {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const channel = new BroadcastChannel(SPANS_CHANNEL);
  const fromThread = new Promise((resolve) => (channel.onmessage = (message) => resolve(message.data)));

  const engine = new TaskEngine({ concurrency: 4, pool: { maxWorkers: 1 } });
  const { uninstrument } = instrument(engine, { tracerProvider });
  const config = () =>
    engine.registerTask({
      name: 'load config',
      args: ['eu-north'],
      cache: true, // the second one completes from the first one's result
      fn: async (_ctx, region) => {
        await sleep(40);
        return { region };
      },
    });
  const configId = config();
  const fetchId = engine.registerTask({
    name: 'fetch',
    maxRetries: 2,
    retryDelay: 120,
    fn: async (ctx) => {
      await sleep(ctx.attempt === 1 ? 90 : 110);
      if (ctx.attempt === 1) throw new Error('503 Service Unavailable');
      return 'city,celsius\noslo,6\nrome,16';
    },
  });
  const checksumId = engine.registerTask({
    name: 'checksum',
    module: new URL('./render-trace.worker.mjs', import.meta.url),
    export: 'checksum',
    args: ['taskchart', 60_000],
  });
  const reportId = engine.registerTask({
    name: 'report',
    dependencies: [configId, fetchId, checksumId],
    fn: async (ctx) => {
      await sleep(30);
      return `${ctx.dependencies.length} inputs`;
    },
  });

  const tracer = tracerProvider.getTracer('taskchart-example');
  const attributes = { 'http.request.method': 'GET', 'url.path': '/report' };
  await tracer.startActiveSpan('GET /report', { kind: SpanKind.SERVER, attributes }, async (span) => {
    engine.startTasks([configId, fetchId, checksumId, reportId]);
    await engine.waitForTask(reportId);
    const again = config();
    engine.startTask(again);
    await engine.waitForTask(again);
    await sleep(5);
    span.end();
  });
  const threadSpans = await within(fromThread, 10_000, 'no span came from the pool thread');
  channel.close();
  await engine.shutdown();
  uninstrument();
  const spans = [...exporter.getFinishedSpans().map(plainSpan), ...threadSpans]; // read before shutdown() empties it
  await tracerProvider.shutdown();
  context.disable();
  return spans;
}

async function screenshot(html, path) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.route('**/*', (route) => route.abort()); // the page is self-contained: it has nothing to load
    await page.setContent(html);
    await page.locator('#trace').screenshot({ path });
  } finally {
    await browser.close();
  }
}

const spans = await tracedRun();
await screenshot(tracePage(spans, { title: 'GET /report: one trace through taskchart/otel' }), output);
console.log(`${spans.length} spans drawn to ${output}`);
