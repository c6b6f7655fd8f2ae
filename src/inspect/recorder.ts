/**
 * recordInspection: an XState inspection observer that writes every event it
 * sees as one JSON line to a file or stream, for reading back and replaying later.
 */
import { createWriteStream } from 'node:fs';
import type { InspectionEvent, Observer } from 'xstate';
import { invalid, isPlainObject, optionalFunction, optionalInteger, ownFields, readingInput } from '../validate.js';
import { LineWriter, type LineStream } from './line-writer.js';
import { toInspectionLine } from './line.js';

/** Options of {@link recordInspection}. */
export interface RecordInspectionOptions {
  /** For a file path: append to the file instead of replacing it. @default false (the file holds one run) */
  append?: boolean;
  /** For a stream: end it on `close()`. A file the recorder opened is always closed. @default false */
  end?: boolean;
  /** Records only the events this returns true for, e.g. to leave out `@xstate.microstep`. @default every event */
  filter?: (event: InspectionEvent) => boolean;
  /** Nesting depth of events and contexts kept; deeper values are written as `[MaxDepth]`. @default 10 */
  maxDepth?: number;
  /** The clock of each line's `time`. @default Date.now */
  now?: () => number;
}

/** What {@link recordInspection} returns. */
export interface InspectionRecorder {
  /** The observer to pass as `new TaskEngine({ inspect: recorder.inspect })`. Never throws into the engine. */
  readonly inspect: Observer<InspectionEvent>;
  /** Lines recorded so far (queued or written). */
  readonly recorded: number;
  /**
   * Stops recording, writes every queued line and closes the file (or ends the stream, with `end: true`).
   * Rejects with the first error of the file or stream, if any. Call it after `engine.shutdown()`.
   */
  close(): Promise<void>;
}

const OPTION_KEYS: ReadonlySet<string> = new Set(['append', 'end', 'filter', 'maxDepth', 'now']);

/**
 * Records a run's XState inspection events as JSON lines (one {@link InspectionLine} per line).
 * Each event is turned into a JSON-safe line at once, and lines are written in order,
 * in the background, waiting for the stream's `drain`: the engine is never blocked.
 * A file path is created (or replaced; `append: true` to append).
 *
 * @example
 * import { TaskEngine } from 'taskchart';
 * import { recordInspection } from 'taskchart/inspect';
 *
 * const recorder = recordInspection('run.jsonl');
 * const engine = new TaskEngine({ inspect: recorder.inspect });
 * // ... register and run tasks ...
 * await engine.shutdown();
 * await recorder.close();
 */
export function recordInspection(target: string | NodeJS.WritableStream, options: RecordInspectionOptions = {}): InspectionRecorder {
  const resolved = readingInput('options', () => resolveOptions(options));
  const writer = readingInput('target', () => openTarget(target, resolved));
  let seq = 0;
  let stopped = false;
  const next = (event: InspectionEvent): void => {
    if (stopped) return;
    try {
      if (resolved.filter && !resolved.filter(event)) return;
      const line = toInspectionLine(event, ++seq, resolved.now(), resolved.maxDepth);
      writer.push(`${JSON.stringify(line)}\n`);
    } catch {
      // A throwing filter or clock must not break the run; the line is left out.
    }
  };
  return {
    inspect: { next },
    get recorded() {
      return seq;
    },
    close() {
      stopped = true;
      return writer.close();
    },
  };
}

interface ResolvedRecordOptions {
  append: boolean;
  end: boolean;
  filter: ((event: InspectionEvent) => boolean) | undefined;
  maxDepth: number;
  now: () => number;
}

function resolveOptions(options: unknown): ResolvedRecordOptions {
  if (!isPlainObject(options)) throw invalid('options', 'a plain object', options);
  const fields = ownFields('options', options, OPTION_KEYS);
  return {
    append: optionalBoolean('append', fields.append),
    end: optionalBoolean('end', fields.end),
    filter: optionalFunction('filter', fields.filter),
    maxDepth: optionalInteger('maxDepth', fields.maxDepth, 1, 10),
    now: optionalFunction<() => number>('now', fields.now) ?? Date.now,
  };
}

function optionalBoolean(field: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalid(field, 'a boolean', value);
  return value;
}

function openTarget(target: unknown, options: ResolvedRecordOptions): LineWriter {
  if (typeof target === 'string' && target.length > 0) {
    const stream = createWriteStream(target, { flags: options.append ? 'a' : 'w', encoding: 'utf8' });
    return new LineWriter(stream, { end: true, awaitClose: true });
  }
  if (isWritable(target)) return new LineWriter(target, { end: options.end, awaitClose: false });
  throw invalid('target', 'a file path (non-empty string) or a writable stream', target);
}

function isWritable(value: unknown): value is LineStream {
  const stream = value as Partial<LineStream> | null;
  return (
    typeof stream === 'object' &&
    stream !== null &&
    typeof stream.write === 'function' &&
    typeof stream.on === 'function' &&
    typeof stream.end === 'function'
  );
}
