/**
 * The context an attempt's function receives: its signal made on first use, aborted whenever that is; listeners
 * told of the abort once, at once when added late; only the first abort counts.
 */
import { describe, expect, it } from 'vitest';
import { AttemptContext, type AttemptHost } from '../../src/actors/attempt-context.js';

function recordingHost() {
  const calls: unknown[][] = [];
  const host: AttemptHost = {
    progress: (context, fraction, message) => void calls.push(['progress', context.id, fraction, message]),
    heartbeat: (context, details) => void calls.push(['heartbeat', context.id, details]),
    registerResource: (context, dispose) => void calls.push(['resource', context.id, dispose]),
  };
  return { host, calls };
}

describe('AttemptContext', () => {
  it('gives a signal aborted with the first reason, whether it was read before or after the abort', () => {
    const { host } = recordingHost();
    const early = new AttemptContext('a', 'a', 1, host, []);
    const signal = early.signal;
    expect(early.signal).toBe(signal); // one controller per attempt
    expect(signal.aborted).toBe(false);
    early.abort('timed out');
    early.abort('cancelled later');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('timed out');
    const late = new AttemptContext('b', 'b', 1, host, []);
    late.abort('shutdown');
    late.abort('again');
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBe('shutdown');
  });

  it('tells each abort listener once, and one added after the abort at once', () => {
    const { host } = recordingHost();
    const context = new AttemptContext('a', 'a', 2, host, []);
    const heard: string[] = [];
    context.whenAborted((reason) => heard.push(`before: ${String(reason)}`));
    expect(heard).toEqual([]);
    context.abort('cancel');
    context.abort('second');
    context.whenAborted((reason) => heard.push(`after: ${String(reason)}`));
    expect(heard).toEqual(['before: cancel', 'after: cancel']);
  });

  it('passes progress and resources to its host, naming itself; the functions survive destructuring', () => {
    const { host, calls } = recordingHost();
    const context = new AttemptContext('t1', 'fetch', 3, host, []);
    const { progress, registerResource } = context;
    const dispose = () => undefined;
    progress(0.5, 'half');
    registerResource(dispose);
    expect(context.progress).toBe(progress);
    expect(calls).toEqual([
      ['progress', 't1', 0.5, 'half'],
      ['resource', 't1', dispose],
    ]);
    expect(context).toMatchObject({ id: 't1', name: 'fetch', attempt: 3 });
  });
});
