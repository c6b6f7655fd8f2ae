/**
 * Loads worker-side.ts for a pool thread or a remote worker the first time an attempt arrives with a trace
 * context; undefined, once and for all, where @opentelemetry/api cannot be imported (a worker machine that does
 * not have it: its attempts run untraced). This file imports nothing of OpenTelemetry itself.
 */
type WorkerSide = typeof import('./worker-side.js');

let loading: Promise<WorkerSide | undefined> | undefined;

export function loadWorkerSide(): Promise<WorkerSide | undefined> {
  return (loading ??= import('./worker-side.js').catch(() => undefined));
}
