/** How the command writes errors, results, missed deadlines and stalls on one line, and results as JSON. */
import { describe, expect, it } from 'vitest';
import { TaskStalledError } from '../../src/index.js';
import { deadlineLine, formatError, formatResult, resultToJson, stallText } from '../../src/cli/format.js';

const coded = (code: string, message: string, cause?: unknown): Error =>
  Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });

describe('an error on one line', () => {
  it('names the root cause once, however deep the chain', () => {
    const root = coded('ERR_TASK_TIMEOUT', 'Task `fetch` timed out after 1500 ms');
    const wrapped = new Error('upload failed', { cause: new Error('retry gave up', { cause: root }) });
    expect(formatError(wrapped)).toBe('Error: upload failed (caused by ERR_TASK_TIMEOUT: Task `fetch` timed out after 1500 ms)');
  });

  it('adds nothing when the message already says the root cause (a dependency failure three levels deep)', () => {
    const root = coded('ERR_TASK_TIMEOUT', 'Task `fetch:seville` timed out after 1500 ms (attempt 2)');
    const parse = coded(
      'ERR_DEPENDENCY_FAILED',
      'Task `parse:seville` did not run: its dependency `fetch:seville` failed: Task `fetch:seville` timed out after 1500 ms (attempt 2)',
      root,
    );
    const report = coded(
      'ERR_DEPENDENCY_FAILED',
      'Task `report` did not run: its dependency `parse:seville` failed; root cause: `fetch:seville` ERR_TASK_TIMEOUT: Task `fetch:seville` timed out after 1500 ms (attempt 2)',
      parse,
    );
    expect(formatError(report)).toBe(`ERR_DEPENDENCY_FAILED: ${report.message}`);
  });

  it('puts a multi-line message on one line, and survives a cause chain that loops', () => {
    const looping = new Error('first\n  second');
    (looping as { cause?: unknown }).cause = looping;
    expect(formatError(looping)).toBe('Error: first second');
    expect(formatError('a string thrown')).toBe('a string thrown');
  });
});

describe('a result', () => {
  it('on one line, as Node prints values, shortened', () => {
    expect(formatResult('two\nlines')).toBe("'two\\nlines'");
    expect(formatResult(new Map([['a', 1]]))).toBe("Map(1) { 'a' => 1 }");
  });

  it('as JSON data: bigints as decimal strings, a value JSON cannot hold as its one-line text', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(resultToJson({ n: 2n ** 64n, at: new Date(0) })).toEqual({ n: '18446744073709551616', at: '1970-01-01T00:00:00.000Z' });
    expect(resultToJson(cyclic)).toBe("<ref *1> { name: 'loop', self: [Circular *1] }");
    expect(resultToJson(undefined)).toBeUndefined();
  });
});

describe('long and repeated work on one line', () => {
  it('a missed deadline names the task and the deadline', () => {
    expect(deadlineLine({ name: 'report', deadline: 500 })).toBe('deadline missed: report (after 500ms)');
    expect(deadlineLine({ name: 'report', deadline: 30_000 })).toBe('deadline missed: report (after 30.0s)');
  });

  it('a stalled attempt says how long it sent no heartbeat; any other failure is not a stall', () => {
    expect(stallText(new TaskStalledError('crawl', 500, 1))).toBe('no heartbeat for 500ms');
    expect(stallText(coded('ERR_TASK_STALLED', 'stalled'))).toBe('no heartbeat');
    expect(stallText(coded('ERR_TASK_TIMEOUT', 'Task `crawl` timed out after 500 ms'))).toBeUndefined();
    expect(stallText('ERR_TASK_STALLED')).toBeUndefined();
  });
});
