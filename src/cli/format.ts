/** Text shapes shared by the views and the summary: durations, one-line errors, shell words. */

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

/** An error as `CODE: message` (or `Name: message`), on one line; a cause chain is appended. */
export function formatError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const head = `${typeof code === 'string' ? code : error.name}: ${error.message}`.replace(/\s*\n\s*/g, ' ');
  return error.cause === undefined ? head : `${head} (caused by ${formatError(error.cause)})`;
}

/** An error as plain data for JSON output. */
export function errorToJson(error: unknown): { name?: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message };
}

/** `word` as a POSIX shell reads it back: as is when it is plainly safe, else in single quotes. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
