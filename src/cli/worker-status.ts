/**
 * The one-line status of `taskchart worker`: jobs running, and how the finished ones ended (by their result
 * envelope's status). On a terminal the line is redrawn in place; piped, it is printed when the worker stops.
 */
import type { Writable } from 'node:stream';
import type { Worker } from 'bullmq';
import { isResultEnvelope } from '../bullmq/protocol.js';
import { formatDuration } from './format.js';

/** How often the line is redrawn on a terminal. */
const REDRAW_MS = 500;

export class WorkerStatus {
  readonly #out: Writable & { isTTY?: boolean };
  readonly #concurrency: number;
  readonly #started = Date.now();
  /** Ids of the jobs this worker runs now. */
  readonly #running = new Set<string>();
  #ok = 0;
  #failed = 0;
  #cancelled = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(worker: Worker, out: Writable, concurrency: number) {
    this.#out = out;
    this.#concurrency = concurrency;
    worker.on('active', (job) => this.#running.add(String(job.id)));
    worker.on('completed', (job, result: unknown) => {
      this.#running.delete(String(job.id));
      const status = isResultEnvelope(result) ? result.status : 'error';
      if (status === 'ok') this.#ok++;
      else if (status === 'cancelled') this.#cancelled++;
      else this.#failed++;
    });
    // BullMQ's own failures (the processor could not run, a stalled job) count as failed.
    worker.on('failed', (job) => {
      this.#running.delete(String(job?.id));
      this.#failed++;
    });
    if (this.#out.isTTY === true) {
      this.#timer = setInterval(() => this.#out.write(`\r\u001b[2K${this.line()}`), REDRAW_MS);
      this.#timer.unref();
    }
  }

  /** `worker: 2/4 running | 1204 ok | 3 failed | 1 cancelled | 37.2/s | 32.4s up` */
  line(): string {
    const finished = this.#ok + this.#failed + this.#cancelled;
    const seconds = (Date.now() - this.#started) / 1000;
    const rate = seconds > 0 ? (finished / seconds).toFixed(1) : '0.0';
    return `worker: ${this.#running.size}/${this.#concurrency} running | ${this.#ok} ok | ${this.#failed} failed | ${this.#cancelled} cancelled | ${rate}/s | ${formatDuration(Date.now() - this.#started)} up`;
  }

  /** Stops redrawing and prints the final line on a line of its own. */
  stop(): void {
    clearInterval(this.#timer);
    this.#out.write(`${this.#out.isTTY === true ? '\r\u001b[2K' : ''}${this.line()}\n`);
  }
}
