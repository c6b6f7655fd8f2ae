// The pool task of scripts/render-trace.mjs, in a worker thread. The thread is a realm of its own: it registers its
// own context manager and tracer provider, whose exporter posts each finished span (as plain data) to the main
// thread on a BroadcastChannel, so that the picture has the span the task makes here too.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { plainSpan, SPANS_CHANNEL } from './render-trace.page.mjs';

const channel = new BroadcastChannel(SPANS_CHANNEL);
channel.unref();
const exporter = {
  export(spans, done) {
    channel.postMessage(spans.map((span) => ({ ...plainSpan(span), thread: true })));
    done({ code: 0 });
  },
  shutdown: async () => {},
};
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
const tracer = trace.getTracer('taskchart-example');

/** CPU-bound on purpose: `rounds` SHA-256 rounds over the input, in a span of this thread's. */
export function checksum(_ctx, input, rounds) {
  return tracer.startActiveSpan('sha256 rounds', { attributes: { 'example.rounds': rounds } }, (span) => {
    let digest = Buffer.from(input);
    for (let i = 0; i < rounds; i++) digest = createHash('sha256').update(digest).digest();
    span.end();
    return digest.toString('hex');
  });
}
