/** Text shapes shared by the views and the summary: durations, one-line errors and results, shell words. */
import { inspect } from 'node:util';
import { ErrorCode } from '../index.js';

/** `850ms`, `12.3s`, `4m 05s`, `2h 03m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.floor(seconds) % 60;
  const m = Math.floor(seconds / 60) % 60;
  const h = Math.floor(seconds / 3600);
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${String(s).padStart(2, '0')}s`;
}

/**
 * An error as `CODE: message` (or `Name: message`), on one line, followed by its root cause (the end of its
 * `cause` chain) once, unless the message already says it (a dependency failure names its root cause).
 */
export function formatError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const head = errorHead(error);
  let root: unknown = error.cause;
  for (let depth = 0; root instanceof Error && root.cause !== undefined && depth < 100; depth++) root = root.cause; // (a cycle ends at 100)
  if (root === undefined) return head;
  const rootMessage = oneLine(root instanceof Error ? root.message : String(root));
  return head.includes(rootMessage) ? head : `${head} (caused by ${root instanceof Error ? errorHead(root) : rootMessage})`;
}

function errorHead(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return oneLine(`${typeof code === 'string' ? code : error.name}: ${error.message}`);
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ');

/** A task's result on one line, as Node prints values (`'text'`, `{ rows: 31 }`, `[ 1, 2, ... 8 more items ]`). */
export function formatResult(result: unknown): string {
  return oneLine(inspect(result, { breakLength: Infinity, compact: true, depth: 2, maxArrayLength: 10, maxStringLength: 200 }));
}

/** An error as plain data for JSON output. */
export function errorToJson(error: unknown): { name?: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message };
}

/**
 * A task's result as plain data for JSON output: what `JSON.stringify` makes of it, with bigints as
 * decimal strings; a value JSON cannot hold (a cycle) as its one-line {@link formatResult} text.
 */
export function resultToJson(result: unknown): unknown {
  try {
    const text = JSON.stringify(result, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return formatResult(result);
  }
}

/** `text` cut to at most `max` characters (at least 1), ending with an ellipsis when cut. */
export function fit(text: string, max: number): string {
  const room = Math.max(1, max);
  return text.length <= room ? text : `${text.slice(0, room - 1)}…`;
}

/** `word` as a POSIX shell reads it back: as is when it is plainly safe, else in single quotes. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The line a view logs for a `rate-limited` event: `rate-limited summarize: llm team-a paused 30.0s`. */
export function rateLimitedLine(event: {
  readonly name: string;
  readonly limiter: string;
  readonly key: string;
  readonly until: number;
  readonly timestamp: number;
}): string {
  return `${event.name}: ${event.limiter} ${event.key} paused ${formatDuration(Math.max(0, event.until - event.timestamp))}`;
}

/** The line a view logs for a `deadline` event: `deadline missed: report (after 30.0s)`. */
export function deadlineLine(event: { readonly name: string; readonly deadline: number }): string {
  return `deadline missed: ${event.name} (after ${formatDuration(event.deadline)})`;
}

/**
 * How a retried attempt stalled, when its error is ERR_TASK_STALLED: `no heartbeat for 500ms` (a TaskStalledError
 * carries its `heartbeatTimeout`); undefined when the attempt failed otherwise.
 */
export function stallText(error: unknown): string | undefined {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== ErrorCode.TASK_STALLED) return undefined;
  const timeout = (error as { heartbeatTimeout?: unknown }).heartbeatTimeout;
  return typeof timeout === 'number' ? `no heartbeat for ${formatDuration(timeout)}` : 'no heartbeat';
}
