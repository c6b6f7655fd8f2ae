/**
 * Reading a recording back: readInspection parses its lines in order,
 * replayInspection feeds them to an observer.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { invalid, isPlainObject } from '../validate.js';
import type { InspectionLine } from './line.js';

/**
 * The lines of a recording made by {@link recordInspection}, parsed, in the order they were written.
 * Blank lines are skipped; a line that is not a recorded event rejects with ERR_INVALID_OPTION naming it (`line 3`).
 *
 * @example
 * for await (const line of readInspection('run.jsonl')) {
 *   if (line.type === '@xstate.event') console.log(line.taskId ?? line.machine, line.event);
 * }
 */
export function readInspection(source: string | NodeJS.ReadableStream): AsyncIterableIterator<InspectionLine> {
  const input = openSource(source);
  return parseLines(input);
}

/**
 * Feeds each recorded line, in order, to `observer`; resolves with the number of lines fed.
 * Use it to rebuild a view of a run (or send it to another inspector) from a recording.
 *
 * @example
 * const count = await replayInspection('run.jsonl', (line) => console.log(line.seq, line.type, line.taskId));
 */
export async function replayInspection(
  source: string | NodeJS.ReadableStream,
  observer: ((line: InspectionLine) => void) | { next: (line: InspectionLine) => void },
): Promise<number> {
  const next = toNext(observer);
  let count = 0;
  for await (const line of readInspection(source)) {
    next(line);
    count++;
  }
  return count;
}

function toNext(observer: unknown): (line: InspectionLine) => void {
  if (typeof observer === 'function') return observer as (line: InspectionLine) => void;
  if (typeof observer === 'object' && observer !== null && typeof (observer as { next?: unknown }).next === 'function') {
    const target = observer as { next: (line: InspectionLine) => void };
    return (line) => target.next(line);
  }
  throw invalid('observer', 'a function or an observer ({ next(line) })', observer);
}

function openSource(source: unknown): NodeJS.ReadableStream {
  if (typeof source === 'string' && source.length > 0) return createReadStream(source, { encoding: 'utf8' });
  const stream = source as Partial<NodeJS.ReadableStream> | null;
  if (
    typeof stream === 'object' &&
    stream !== null &&
    typeof stream[Symbol.asyncIterator] === 'function' &&
    typeof stream.on === 'function'
  ) {
    return stream as NodeJS.ReadableStream;
  }
  throw invalid('source', 'a file path (non-empty string) or a readable stream', source);
}

async function* parseLines(input: NodeJS.ReadableStream): AsyncIterableIterator<InspectionLine> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const text of lines) {
      number++;
      if (text.trim() === '') continue;
      yield parseLine(text, number);
    }
  } finally {
    lines.close();
  }
}

function parseLine(text: string, number: number): InspectionLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const line = parsed as Partial<InspectionLine> | undefined;
  if (!isPlainObject(line) || typeof line.type !== 'string' || !line.type.startsWith('@xstate.') || typeof line.seq !== 'number') {
    throw invalid(`line ${number}`, 'a recorded inspection event (a JSON object with `seq` and `type`)', text);
  }
  return line as InspectionLine;
}
