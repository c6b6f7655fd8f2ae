/**
 * An ordered, non-blocking writer of text lines to a Node stream.
 * Invariant: at most one `write` is outstanding, and chunks are written in push order;
 * pushes made while a write waits for `drain` are joined into the next chunk.
 */

/** The part of a writable stream the writer uses. */
export type LineStream = NodeJS.WritableStream;

export class LineWriter {
  readonly #stream: LineStream;
  readonly #endOnClose: boolean;
  readonly #awaitClose: boolean;
  #pending: string[] = [];
  #pump: Promise<void> | undefined;
  #closed = false;
  #error: unknown;
  #hasError = false;

  /** `end`: end the stream on close(); `awaitClose`: then wait for its 'close' event too (file streams). */
  constructor(stream: LineStream, options: { end: boolean; awaitClose: boolean }) {
    this.#stream = stream;
    this.#endOnClose = options.end;
    this.#awaitClose = options.awaitClose;
    // Kept for the writer's life: a stream error is reported by close(), never thrown into the engine.
    stream.on('error', (error: unknown) => this.#fail(error));
  }

  /** Queues `text`; returns at once. Ignored after close() or a stream error. */
  push(text: string): void {
    if (this.#closed || this.#hasError) return;
    this.#pending.push(text);
    this.#pump ??= this.#drainPending();
  }

  /** Writes what is queued, ends the stream if it owns it, and rejects with the first stream error. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      while (this.#pump) await this.#pump;
      if (this.#endOnClose && !this.#hasError) await this.#end();
    }
    if (this.#hasError) throw this.#error;
  }

  #fail(error: unknown): void {
    if (this.#hasError) return;
    this.#hasError = true;
    this.#error = error;
    this.#pending = [];
  }

  async #drainPending(): Promise<void> {
    await null; // let a synchronous burst of events gather into one chunk
    try {
      while (this.#pending.length > 0 && !this.#hasError) {
        const chunk = this.#pending.join('');
        this.#pending = [];
        await this.#write(chunk);
      }
    } finally {
      this.#pump = undefined;
    }
  }

  /** Resolves once the stream has taken the chunk (its callback ran) and, when it asked to, drained; or on a stream error. */
  #write(chunk: string): Promise<void> {
    const stream = this.#stream;
    return new Promise<void>((resolve) => {
      let waitingFor = 2; // the write callback, and 'drain' (or write() returning true)
      const finish = () => {
        stream.removeListener('error', finish);
        stream.removeListener('drain', step);
        resolve();
      };
      const step = () => {
        if (--waitingFor === 0) finish();
      };
      stream.on('error', finish);
      const ok = stream.write(chunk, (error?: Error | null) => {
        if (error) this.#fail(error);
        step();
      });
      if (ok) step();
      else stream.on('drain', step);
    });
  }

  /** Ends the stream; for a file, waits until its descriptor is closed so the data is on disk. */
  #end(): Promise<void> {
    const stream = this.#stream;
    return new Promise<void>((resolve) => {
      stream.once('error', () => resolve());
      if (this.#awaitClose) stream.once('close', () => resolve());
      stream.end(() => {
        if (!this.#awaitClose) resolve();
      });
    });
  }
}
