import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readInspection } from '../../src/inspect/index.js';
import { buildCli, cliFixture, fixture, jsonLines, runCli, startCli } from './cli.js';

beforeAll(buildCli, 60_000);

describe('taskchart run: outcomes and exit codes', () => {
  it('exits 0 and prints the summary table when every task completes', async () => {
    const result = await runCli(['run', fixture('all-complete.mjs')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Summary$/m);
    expect(result.stdout).toMatch(/^ {2}completed +5$/m);
    expect(result.stdout).toMatch(/^ {2}failed +0$/m);
    expect(result.stdout).not.toMatch(/Failed tasks/);
    expect(result.stderr).toBe('');
  });

  it('exits 1 and lists each failed task with its error', async () => {
    const result = await runCli(['run', fixture('one-fails.mjs')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^ {2}completed +1$/m);
    expect(result.stdout).toMatch(/^ {2}failed +2$/m);
    expect(result.stdout).toMatch(/^Failed tasks \(2\)$/m);
    expect(result.stdout).toMatch(/^ {2}load {2}Error: disk full while loading$/m);
    expect(result.stdout).toMatch(/^ {2}publish {2}ERR_DEPENDENCY_FAILED: .*disk full while loading/m);
  });

  it('starts the tasks the module left never-started, and runs those it started itself', async () => {
    const result = await runCli(['run', fixture('starts-some.mjs')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ {2}completed +2$/m);
  });

  it("records the run's statechart inspection events with --inspect-log, readable with taskchart/inspect", async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'taskchart-cli-')), 'run.jsonl');
    const result = await runCli(['run', fixture('all-complete.mjs'), '--inspect-log', log]);
    expect(result.code).toBe(0);
    const values: string[] = [];
    for await (const line of readInspection(log)) {
      if (line.type === '@xstate.snapshot' && line.machine === 'task') values.push(JSON.stringify(line.snapshot?.value));
    }
    expect(values).toEqual(expect.arrayContaining(['"queued"', '"completed"']));
  });

  it('serves the dashboard while running with --dashboard, prints its URL, and closes it at the end', async () => {
    const plain = await runCli(['run', fixture('all-complete.mjs'), '--dashboard']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/$/m);
    // With --json the URL goes to stderr, so that stdout stays one JSON object a line.
    const json = await runCli(['run', fixture('all-complete.mjs'), '--json', '--dashboard=0']);
    expect(json.code).toBe(0);
    expect(json.stderr).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/$/m);
    for (const line of json.stdout.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('creates the engine with the options the graph module exports (here a resource pool it needs)', async () => {
    const result = await runCli(['run', fixture('exports-options.mjs')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ {2}completed +3$/m);
  });

  it('runs with a concurrency given by --concurrency', async () => {
    const result = await runCli(['run', fixture('all-complete.mjs'), '--concurrency', '1']);
    expect(result.code).toBe(0);
  });
});

describe('taskchart run: bad input exits 2 with one line and no stack', () => {
  const cases: [string, string[], RegExp][] = [
    ['a missing file', ['run', fixture('no-such-graph.mjs')], /Cannot find graph module `.*no-such-graph\.mjs`/],
    [
      'a module without a default export',
      ['run', fixture('exports-nothing.mjs')],
      /exports nothing usable: expected `export default \(engine\) => \{ \.\.\. \}`, got no default export/,
    ],
    ['a dependency cycle', ['run', fixture('cycle.mjs')], /ERR_DEPENDENCY_CYCLE: Dependency cycle: `a` -> `c` -> `b` -> `a`$/],
    ['a module registering no task', ['run', fixture('registers-nothing.mjs')], /registered no tasks/],
    ['an unknown flag', ['run', fixture('all-complete.mjs'), '--dashbord'], /Unknown option '--dashbord'/],
    [
      'invalid engine options exported by the module',
      ['run', fixture('bad-options.mjs')],
      /Invalid engine `options` exported by .*bad-options\.mjs.*`concurrency`/,
    ],
    [
      'a bad dashboard port',
      ['run', fixture('all-complete.mjs'), '--dashboard=http'],
      /`--dashboard` port to be an integer from 0 to 65535, got `http`/,
    ],
    [
      'a bad --concurrency',
      ['run', fixture('all-complete.mjs'), '--concurrency', '0'],
      /Expected `--concurrency` to be an integer from 1 and up, got `0`/,
    ],
    ['an unknown command', ['walk', fixture('all-complete.mjs')], /Unknown command `walk`/],
  ];
  it.each(cases)('%s', async (_label, args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^taskchart: /);
    expect(lines[0]).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('prints the usage on stderr and exits 2 when given no command', async () => {
    for (const args of [[], ['--json']]) {
      const result = await runCli(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /^taskchart: expected a command, `run` or `worker`\n\nUsage: taskchart run <graph-module> \[options\]\n/,
      );
      expect(result.stdout).toBe('');
    }
  });

  it('prints the usage on stdout and exits 0 with --help', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: taskchart run <graph-module> \[options\]\n/);
    expect(result.stdout).toMatch(/^ {2}--results +list every task with its result/m);
    expect(result.stderr).toBe('');
  });

  it('refuses --results for taskchart worker', async () => {
    const result = await runCli(['worker', fixture('all-complete.mjs'), '--redis', 'redis://127.0.0.1:6379', '--queue', 'q', '--results']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^taskchart: `--results` is not an option of `taskchart worker`/);
  });

  it('adds the stack trace with --verbose', async () => {
    const result = await runCli(['run', fixture('cycle.mjs'), '--verbose']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toMatch(/^taskchart: .*ERR_DEPENDENCY_CYCLE/);
    expect(result.stderr).toMatch(/\n\s+at /);
  });
});

describe('taskchart run: output formats', () => {
  it('writes one JSON event a line with --json, ending with a summary object', async () => {
    const result = await runCli(['run', fixture('one-fails.mjs'), '--json']);
    expect(result.code).toBe(1);
    const events = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.filter((e) => e.type === 'registered').map((e) => e.taskId)).toEqual(['load', 'publish', 'audit']);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'status',
        taskId: 'load',
        status: 'FAILED',
        error: expect.objectContaining({ message: 'disk full while loading' }),
      }),
    );
    expect(events.at(-1)).toMatchObject({ type: 'summary', exitCode: 1, total: 3, failed: [{ taskId: 'load' }, { taskId: 'publish' }] });
  });

  it('lists every task with its result on one short line with --results, and failures with their error', async () => {
    const result = await runCli(['run', cliFixture('results.mjs'), '--results']);
    expect(result.code).toBe(1);
    const section = result.stdout.split('\nResults (7)\n')[1]?.split('\n\n')[0];
    expect(section?.split('\n')).toEqual([
      "  text                'plain text'",
      "  object              { city: 'oslo', rows: 31, nested: { deep: { deeper: [Object] } } }",
      '  list                [ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ... 90 more items ]',
      "  lines               'first line\\nsecond line'",
      '  nothing             undefined',
      '  big                 1180591620717411303424n',
      '  broken [task-7f3a]  FAILED: Error: no rows',
    ]);
    // Without the flag, no results.
    expect((await runCli(['run', cliFixture('results.mjs')])).stdout).not.toMatch(/^Results/m);
  });

  it("puts every task's result or error in the --json summary, and the result on each COMPLETED status line", async () => {
    const result = await runCli(['run', cliFixture('results.mjs'), '--json']);
    expect(result.code).toBe(1);
    const lines = jsonLines(result.stdout);
    expect(lines.at(-1)?.tasks).toEqual([
      { taskId: 'text', name: 'text', status: 'COMPLETED', result: 'plain text' },
      {
        taskId: 'object',
        name: 'object',
        status: 'COMPLETED',
        result: { city: 'oslo', rows: 31, nested: { deep: { deeper: { deepest: 1 } } } },
      },
      { taskId: 'list', name: 'list', status: 'COMPLETED', result: Array.from({ length: 100 }, (_, i) => i) },
      { taskId: 'lines', name: 'lines', status: 'COMPLETED', result: 'first line\nsecond line' },
      { taskId: 'nothing', name: 'nothing', status: 'COMPLETED' },
      { taskId: 'big', name: 'big', status: 'COMPLETED', result: '1180591620717411303424' },
      { taskId: 'task-7f3a', name: 'broken', status: 'FAILED', error: { name: 'Error', message: 'no rows' } },
    ]);
    expect(lines).toContainEqual(expect.objectContaining({ type: 'status', taskId: 'text', status: 'COMPLETED', result: 'plain text' }));
    expect(lines.at(-1)?.stalled).toEqual([]);
  });

  it('logs missed deadlines, stalled attempts and completions from the cache, and counts them in the summary and --json', async () => {
    const plain = await runCli(['run', cliFixture('long-work.mjs')]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^ *\S+ {2}deadline missed: late \(after 20ms\)$/m);
    expect(plain.stdout).toMatch(/^ *\S+ {2}crawl {2}stalled: no heartbeat for 40ms; retry: attempt 2 in 1ms$/m);
    expect(plain.stdout).toMatch(/^ *\S+ {2}sum {2}PENDING -> COMPLETED \(cached\)$/m);
    expect(plain.stdout).toMatch(/^ {2}from cache +1$/m);
    expect(plain.stdout).toMatch(/^ {2}deadlines missed +1$/m);
    expect(plain.stdout).toMatch(/^ {2}stalled attempts +1$/m);
    expect(plain.stdout).toMatch(/^Missed deadlines \(1\)\n {2}late {2}missed its 20ms deadline; COMPLETED$/m);

    const json = await runCli(['run', cliFixture('long-work.mjs'), '--json']);
    expect(json.code).toBe(0);
    const lines = jsonLines(json.stdout);
    expect(lines).toContainEqual(expect.objectContaining({ type: 'deadline', taskId: 'late', deadline: 20 }));
    expect(lines).toContainEqual(
      expect.objectContaining({ type: 'status', taskId: 'sum-again', status: 'COMPLETED', cached: true, result: 3 }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ type: 'retry', taskId: 'crawl', error: expect.objectContaining({ code: 'ERR_TASK_STALLED' }) }),
    );
    const summary = lines.at(-1) as { type: string; tasks: Record<string, unknown>[] };
    expect(summary).toMatchObject({ type: 'summary', cacheHits: 1, deadlinesMissed: 1, stalledAttempts: 1 });
    expect(summary.tasks.find((task) => task.taskId === 'sum-again')).toMatchObject({ cached: true, result: 3 });
    expect(summary.tasks.find((task) => task.taskId === 'late')).toMatchObject({
      status: 'COMPLETED',
      deadlineMissedAt: expect.any(Number),
    });
  });

  it('writes plain lines, no escape codes, when stdout is not a terminal', async () => {
    const result = await runCli(['run', fixture('all-complete.mjs')]);
    expect(result.stdout).not.toContain('\u001b');
    expect(result.stdout).toMatch(/^ +\d+(ms|\.\ds) {2}fetch {2}PENDING -> RUNNING$/m);
    expect(result.stdout).toMatch(/^ +\d+(ms|\.\ds) {2}report {2}RUNNING -> COMPLETED$/m);
  });

  it('reports a graph module function that waits on a task it never started, and refuses it (exit 2) once nothing else can happen', async () => {
    const result = await runCli(['run', cliFixture('waits-on-forgotten.mjs')]);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(
      /^stalled: `report` waits on never-started `fetch` while the graph module's function has not returned \(the command starts never-started tasks only after it returns: start them in the function, or do not wait for them there\)$/m,
    );
    expect(result.stderr.trimEnd()).toBe(
      "taskchart: Graph module `test/cli/fixtures/waits-on-forgotten.mjs`'s function never returns: it waits for something that cannot happen (the engine is idle, and `report` waits on never-started `fetch`); the command starts never-started tasks only after the function returns",
    );
  });

  it("stops on the first SIGINT while the graph module's function still runs, starting nothing more", async () => {
    const running = startCli(['run', cliFixture('waits-on-forgotten.mjs')], { env: { TASKCHART_TEST_KEEP_ALIVE: '1' } });
    await running.waitForOutput((out) => out.includes('stalled: `report` waits on never-started `fetch`'));
    running.kill('SIGINT');
    const result = await running.result;
    expect(result.code).toBe(130);
    expect(result.stdout).toMatch(/^ {2}completed +1$/m);
    expect(result.stdout).toMatch(/^ {2}cancelled +2$/m);
    expect(result.stdout).not.toMatch(/ fetch {2}PENDING -> RUNNING/);
  });

  it('cancels running tasks on SIGTERM, prints the summary and exits 143', async () => {
    const running = startCli(['run', fixture('slow.mjs'), '--concurrency', '2']);
    await running.waitForOutput((out) => (out.match(/PENDING -> RUNNING$/gm) ?? []).length >= 2);
    running.kill('SIGTERM');
    const result = await running.result;
    expect(result.code).toBe(143);
    expect(result.stdout).toMatch(/^ {2}cancelled +8$/m);
  });
});
