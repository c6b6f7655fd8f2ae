// The pool task of the taskchart/otel example, run in a worker thread. The thread has its own OpenTelemetry globals:
// importing the tracing setup here registers a context manager and a tracer provider in it, and taskchart makes the
// attempt's span (carried from the main thread) the active span while the task runs, so the span below is its child.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import { flushSpans } from './tracing.mjs';

const tracer = trace.getTracer('taskchart-example');

/** CPU-bound on purpose: `rounds` SHA-256 rounds over the input. */
export function checksum(ctx, input, rounds) {
  // Runs in this thread as the attempt ends, before the engine hears of it: the thread's spans are sent before the
  // pool terminates the thread (at shutdown, or on a timeout or cancel).
  ctx.registerResource(flushSpans);
  return tracer.startActiveSpan('sha256 rounds', { attributes: { 'example.rounds': rounds } }, (span) => {
    let digest = Buffer.from(input);
    for (let i = 0; i < rounds; i++) digest = createHash('sha256').update(digest).digest();
    span.end();
    return digest.toString('hex');
  });
}
