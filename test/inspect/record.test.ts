import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { TaskEngine } from '../../src/index.js';
import {
  readInspection,
  recordInspection,
  replayInspection,
  type InspectionLine,
  type InspectionRecorder,
} from '../../src/inspect/index.js';

const dir = mkdtempSync(join(tmpdir(), 'taskchart-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const tempFile = () => join(dir, `run-${++files}.jsonl`);

/** An error with a stable code, thrown by the failing fixture task. */
class FlakyError extends Error {
  readonly code = 'E_FLAKY';
  override name = 'FlakyError';
}

/** Runs three tasks (one completes, one fails after a retry, one waits on the first) with `recorder` attached, then shuts down. */
async function recordedRun(recorder: InspectionRecorder): Promise<void> {
  const engine = new TaskEngine({ inspect: recorder.inspect });
  engine.registerTask({ id: 'ok', name: 'completes', fn: () => 'done' });
  engine.registerTask({
    id: 'flaky',
    name: 'fails after one retry',
    maxRetries: 1,
    retryDelay: 0,
    fn: () => {
      throw new FlakyError('boom');
    },
  });
  engine.registerTask({ id: 'after', name: 'waits on ok', dependencies: ['ok'], fn: () => 'after' });
  for (const id of ['ok', 'flaky', 'after']) engine.startTask(id);
  await Promise.allSettled(['ok', 'flaky', 'after'].map((id) => engine.waitForTask(id)));
  await engine.shutdown();
  await recorder.close();
}

async function collect(source: Parameters<typeof readInspection>[0]): Promise<InspectionLine[]> {
  const lines: InspectionLine[] = [];
  for await (const line of readInspection(source)) lines.push(line);
  return lines;
}

const eventTypes = (lines: InspectionLine[], taskId: string) =>
  lines.filter((l) => l.type === '@xstate.event' && l.taskId === taskId).map((l) => (l.event as { type: string }).type);
const states = (lines: InspectionLine[], taskId: string) =>
  lines.filter((l) => l.type === '@xstate.snapshot' && l.taskId === taskId).map((l) => JSON.stringify(l.snapshot?.value));

describe('recordInspection to a file', () => {
  const file = tempFile();
  const run = recordedRun(recordInspection(file)).then(() => collect(file));

  it('writes one JSON object per line, every line newline-terminated', async () => {
    await run;
    const text = readFileSync(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const raw = text.slice(0, -1).split('\n');
    expect(raw.length).toBeGreaterThan(20);
    for (const line of raw) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('records actor, event and snapshot lines of the supervisor and of each task actor, in emission order', async () => {
    const lines = await run;
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
    for (let i = 1; i < lines.length; i++) expect(lines[i]!.time).toBeGreaterThanOrEqual(lines[i - 1]!.time);
    for (const machine of ['supervisor', 'task']) {
      const types = new Set(lines.filter((l) => l.machine === machine).map((l) => l.type));
      expect([...types]).toEqual(expect.arrayContaining(['@xstate.actor', '@xstate.event', '@xstate.snapshot']));
    }
    const taskActors = lines.filter((l) => l.type === '@xstate.actor' && l.machine === 'task').map((l) => l.taskId);
    expect(taskActors).toEqual(['ok', 'flaky', 'after']);
    // Each actor is announced before any event or snapshot of its own.
    for (const taskId of ['ok', 'flaky', 'after']) {
      const own = lines.filter((l) => l.taskId === taskId);
      expect(own[0]!.type).toBe('@xstate.actor');
      expect(new Set(own.map((l) => l.sessionId)).size).toBe(1);
    }
  });

  it('records START, DISPATCH, ATTEMPT_SUCCEEDED and ATTEMPT_FAILED against the right task ids', async () => {
    const lines = await run;
    expect(eventTypes(lines, 'ok')).toEqual(['xstate.init', 'START', 'DISPATCH', 'ATTEMPT_SUCCEEDED']);
    expect(eventTypes(lines, 'after')).toEqual(['xstate.init', 'START', 'DEPENDENCY_COMPLETED', 'DISPATCH', 'ATTEMPT_SUCCEEDED']);
    const flaky = eventTypes(lines, 'flaky');
    expect(flaky.slice(0, 4)).toEqual(['xstate.init', 'START', 'DISPATCH', 'ATTEMPT_FAILED']);
    expect(flaky.filter((type) => type === 'ATTEMPT_FAILED')).toHaveLength(2);
    expect(flaky).not.toContain('ATTEMPT_SUCCEEDED');
  });

  it('records the state each task went through, in order', async () => {
    const lines = await run;
    expect(states(lines, 'ok')).toEqual(['"pending"', '"queued"', '{"running":"untimed"}', '"completed"']);
    expect(states(lines, 'after')).toEqual(['"pending"', '"waiting"', '"queued"', '{"running":"untimed"}', '"completed"']);
    expect(states(lines, 'flaky')).toEqual([
      '"pending"',
      '"queued"',
      '{"running":"untimed"}',
      '"retrying"',
      '"queued"',
      '{"running":"untimed"}',
      '"failed"',
    ]);
    const done = lines.filter((l) => l.type === '@xstate.snapshot' && l.taskId === 'ok').at(-1)!;
    expect(done.snapshot).toMatchObject({ status: 'done', context: { id: 'ok', result: 'done', attempts: 1 } });
    const supervisor = lines.filter((l) => l.type === '@xstate.snapshot' && l.machine === 'supervisor').map((l) => l.snapshot?.value);
    expect(supervisor).toEqual(['accepting', 'draining', 'stopped']);
  });

  it('serialises errors with their name, message, code and stack', async () => {
    const lines = await run;
    const failed = lines.find(
      (l) => l.type === '@xstate.event' && l.taskId === 'flaky' && (l.event as { type: string }).type === 'ATTEMPT_FAILED',
    )!;
    expect((failed.event as { error: unknown }).error).toMatchObject({
      name: 'FlakyError',
      message: 'boom',
      code: 'E_FLAKY',
      stack: expect.stringContaining('boom'),
    });
    const last = lines.filter((l) => l.type === '@xstate.snapshot' && l.taskId === 'flaky').at(-1)!;
    expect(last.snapshot).toMatchObject({ status: 'done', context: { attempts: 2, error: { name: 'FlakyError', code: 'E_FLAKY' } } });
  });

  it('replays the recording to an observer in order', async () => {
    const lines = await run;
    const replayed: number[] = [];
    await expect(replayInspection(file, { next: (line) => replayed.push(line.seq) })).resolves.toBe(lines.length);
    expect(replayed).toEqual(lines.map((l) => l.seq));
  });
});

describe('recordInspection options and targets', () => {
  it('writes to a stream in order under backpressure, and leaves the stream open', async () => {
    const chunks: string[] = [];
    const slow = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        setImmediate(callback);
      },
    });
    const recorder = recordInspection(slow);
    await recordedRun(recorder);
    expect(slow.writableEnded).toBe(false);
    const lines = chunks
      .join('')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as InspectionLine);
    expect(lines).toHaveLength(recorder.recorded);
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
    expect(eventTypes(lines, 'ok')).toEqual(['xstate.init', 'START', 'DISPATCH', 'ATTEMPT_SUCCEEDED']);
  });

  it('ends a stream on close with `end: true`, and the stream can be read back', async () => {
    const stream = new PassThrough();
    const read = collect(stream);
    await recordedRun(recordInspection(stream, { end: true }));
    const lines = await read;
    expect(stream.writableEnded).toBe(true);
    expect(states(lines, 'ok').at(-1)).toBe('"completed"');
  });

  it('replaces an existing file by default and appends with `append: true`', async () => {
    const file = tempFile();
    const once = async (append: boolean) => {
      const recorder = recordInspection(file, { append });
      recorder.inspect.next?.({ type: '@xstate.actor', rootId: 'x:0', actorRef: { sessionId: 'x:0' } as never });
      await recorder.close();
    };
    await once(false);
    await once(false);
    expect(await collect(file)).toHaveLength(1);
    await once(true);
    expect(await collect(file)).toHaveLength(2);
  });

  it('keeps only the events `filter` accepts', async () => {
    const file = tempFile();
    await recordedRun(recordInspection(file, { filter: (event) => event.type !== '@xstate.microstep' && event.type !== '@xstate.action' }));
    const types = new Set((await collect(file)).map((l) => l.type));
    expect([...types].sort()).toEqual(['@xstate.actor', '@xstate.event', '@xstate.snapshot']);
  });

  it('never throws into the engine: a throwing filter leaves lines out, and a file error is reported by close()', async () => {
    const throwing = recordInspection(tempFile(), {
      filter: () => {
        throw new Error('bad filter');
      },
    });
    await expect(recordedRun(throwing)).resolves.toBeUndefined();
    expect(throwing.recorded).toBe(0);

    const unwritable = recordInspection(join(dir, 'missing-dir', 'run.jsonl'));
    const engine = new TaskEngine({ inspect: unwritable.inspect });
    engine.registerTask({ id: 'x', name: 'x', fn: () => 1 });
    engine.startTask('x');
    await expect(engine.waitForTask('x')).resolves.toBe(1);
    await engine.shutdown();
    await expect(unwritable.close()).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('ignores events after close()', async () => {
    const recorder = recordInspection(new PassThrough());
    await recorder.close();
    recorder.inspect.next?.({ type: '@xstate.actor', rootId: 'x:0', actorRef: { sessionId: 'x:0' } as never });
    expect(recorder.recorded).toBe(0);
  });
});

describe('argument validation', () => {
  const refused = (run: () => unknown, field: string) => {
    expect(run).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', field, message: expect.stringContaining(`\`${field}\``) }));
  };

  it('refuses a target that is neither a path nor a writable stream, naming `target`', () => {
    refused(() => recordInspection(42 as never), 'target');
    refused(() => recordInspection('' as never), 'target');
    refused(() => recordInspection({ write: () => true } as never), 'target');
  });

  it('refuses bad options, naming the field', () => {
    const file = join(dir, 'never-created.jsonl');
    refused(() => recordInspection(file, 'w' as never), 'options');
    refused(() => recordInspection(file, { append: 'yes' } as never), 'append');
    refused(() => recordInspection(file, { end: 1 } as never), 'end');
    refused(() => recordInspection(file, { filter: true } as never), 'filter');
    refused(() => recordInspection(file, { maxDepth: 0 }), 'maxDepth');
    refused(() => recordInspection(file, { now: 5 } as never), 'now');
    expect(() => recordInspection(file, { flags: 'a' } as never)).toThrow(
      expect.objectContaining({ field: 'options.flags', message: expect.stringContaining('Unknown field `flags`') }),
    );
    expect(() => readFileSync(file)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('refuses a bad source or observer when reading back, naming it', async () => {
    refused(() => readInspection(7 as never), 'source');
    await expect(replayInspection(Readable.from([]), 'x' as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      field: 'observer',
    });
  });

  it('rejects a line that is not a recorded event, naming its line number', async () => {
    const source = Readable.from(['{"seq":1,"type":"@xstate.actor"}\n', '\n', 'not json\n']);
    await expect(collect(source)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', field: 'line 3' });
  });
});
