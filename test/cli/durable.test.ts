/**
 * `taskchart run --store`: the real binary, a durable graph (test/fixtures/graphs/durable-steps.mjs)
 * whose steps append `<id>#<attempt>` to a log when they run. A run is interrupted once some steps
 * completed and others are running (synchronised on its --json events), then run again on the same store.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TaskEngine } from '../../src/index.js';
import { SqliteStore } from '../../src/sqlite/index.js';
import { resumeCommand, suspendedLine } from '../../src/cli/durable-run.js';
import { buildCli, fixture, jsonLines, runCli, runShell, startCli, type CliResult } from './cli.js';

beforeAll(buildCli, 60_000);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory with the store path and the steps' log path. */
function workspace(): { db: string; log: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'taskchart-cli-durable-'));
  dirs.push(dir);
  const log = join(dir, 'steps.log');
  return { db: join(dir, 'tasks.db'), log, env: { TASKCHART_STEP_LOG: log } };
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const cliBin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const ranSteps = (log: string): string[] => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);

/** --json output so far shows `a` and `b` COMPLETED, and the steps `c` and `d` running their function (they reported `holding`). */
function someCompletedOthersRunning(stdout: string): boolean {
  const seen = new Set<string>();
  for (const event of jsonLines(stdout)) {
    if (event.type === 'status' && event.status === 'COMPLETED') seen.add(`${String(event.taskId)} completed`);
    if (event.type === 'progress' && event.message === 'holding') seen.add(`${String(event.taskId)} holding`);
  }
  return ['a completed', 'b completed', 'c holding', 'd holding'].every((fact) => seen.has(fact));
}

/** A store holding steps `a` and `b` (b after a) of durable-steps.mjs, as another program left it: started or not, suspended. */
async function storeTwoSteps(db: string, log: string, { started }: { started: boolean }): Promise<void> {
  const engine = new TaskEngine({ store: new SqliteStore({ path: db }) });
  engine.defineTask('step', () => 'not run here');
  engine.registerTasks([
    { id: 'a', name: 'a', handler: 'step', args: [log, false] },
    { id: 'b', name: 'b', handler: 'step', args: [log, false], dependencies: ['a'] },
  ]);
  if (started) for (const id of ['a', 'b']) engine.startTask(id);
  await engine.shutdown({ mode: 'suspend' });
}

function oneLineError(result: CliResult): string {
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^taskchart: /);
  return lines[0] as string;
}

describe('taskchart run --store: stopping is not cancelling', () => {
  it('suspends on SIGINT, prints what is left and the command to resume; that command finishes only what was left', async () => {
    const { db, log, env } = workspace();
    const args = ['run', fixture('durable-steps.mjs'), '--store', db, '--json'];
    const first = startCli(args, { env: { ...env, TASKCHART_STEP_HOLD: '1' } });
    await first.waitForOutput(someCompletedOthersRunning);
    first.kill('SIGINT');
    const stopped = await first.result;

    expect(stopped.code).toBe(130);
    const summary = jsonLines(stopped.stdout).at(-1);
    expect(summary).toMatchObject({
      type: 'summary',
      exitCode: 130,
      suspended: true,
      left: 3,
      total: 5,
      counts: { COMPLETED: 2, CANCELLED: 0 },
    });
    // Nothing was recorded as cancelled: no CANCELLED status event went out either.
    expect(jsonLines(stopped.stdout).filter((e) => e.type === 'status' && e.status === 'CANCELLED')).toEqual([]);
    // With --json, lines for people go to stderr.
    const line = stopped.stderr.trimEnd();
    expect(line).toBe(
      `interrupted: 3 of 5 tasks left for the next run (stopping cancelled nothing); to resume, run: node ${cliBin} ${args.join(' ')}`,
    );
    expect(ranSteps(log).sort()).toEqual(['a#1', 'b#1', 'c#1', 'd#1']);

    // The printed command, run as printed in a shell (without the hold): the graph comes from the store.
    const resumed = await runShell(line.split('to resume, run: ')[1] as string, { env });
    expect(resumed.code).toBe(0);
    const events = jsonLines(resumed.stdout);
    expect(events.filter((e) => e.type === 'registered').map((e) => [e.taskId, e.restored])).toEqual(
      ['a', 'b', 'c', 'd', 'e'].map((id) => [id, true]),
    );
    expect(events.find((e) => e.type === 'restore')).toMatchObject({
      store: db,
      restored: 5,
      finished: 2,
      resumed: 3,
      pending: 0,
      interrupted: 0,
    });
    expect(events.at(-1)).toMatchObject({
      type: 'summary',
      exitCode: 0,
      total: 5,
      finishedEarlier: 2,
      counts: { COMPLETED: 5, FAILED: 0, CANCELLED: 0, RUNNING: 0 },
    });
    // a and b did not run again; the suspended attempts of c and d were not counted (attempt 1 again); e ran once.
    expect(ranSteps(log).slice(4).sort()).toEqual(['c#1', 'd#1', 'e#1']);
  }, 30_000);

  it('counts tasks finished in earlier runs as done in the plain view and the summary, without listing them again', async () => {
    const { db, log, env } = workspace();
    expect((await runCli(['run', fixture('durable-steps.mjs'), '--store', db], { env })).code).toBe(0);
    const again = await runCli(['run', fixture('durable-steps.mjs'), '--store', db], { env });

    expect(again.code).toBe(0);
    expect(again.stdout.split('\n')[0]).toBe(`resuming from ${db}: 5 finished, 0 left`);
    expect(again.stdout).not.toMatch(/ -> COMPLETED/);
    expect(again.stdout).toMatch(/^ {2}completed +5$/m);
    expect(again.stdout).toMatch(/^ {2}total +5$/m);
    expect(again.stdout).toMatch(/^ {2}finished in earlier runs +5$/m);
    expect(ranSteps(log)).toHaveLength(5);
  }, 30_000);

  it('starts the tasks the store holds registered but never started', async () => {
    const { db, log, env } = workspace();
    // Another program registered the graph in the store and stopped before starting anything.
    await storeTwoSteps(db, log, { started: false });

    const result = await runCli(['run', fixture('durable-steps.mjs'), '--store', db], { env });
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe(`resuming from ${db}: 0 finished, 2 left`);
    expect(result.stdout).toMatch(/^ {2}completed +2$/m);
    expect(ranSteps(log)).toEqual(['a#1', 'b#1']);
  }, 30_000);

  it('refuses, with exit 2 and nothing changed, a module that cannot run the tasks the store holds; the right module resumes them', async () => {
    const { db, log, env } = workspace();
    await storeTwoSteps(db, log, { started: true });

    const wrong = await runCli(['run', fixture('all-complete.mjs'), '--store', db], { env });
    expect(wrong.code).toBe(2);
    expect(oneLineError(wrong)).toMatch(
      /^taskchart: ERR_INVALID_OPTION: restore\(\) found 2 unfinished stored task\(s\) this process cannot run, and restored nothing: Task `a` names handler `step`/,
    );

    const right = await runCli(['run', fixture('durable-steps.mjs'), '--store', db], { env });
    expect(right.code).toBe(0);
    expect(right.stdout.split('\n')[0]).toBe(`resuming from ${db}: 0 finished, 2 left`);
    expect(ranSteps(log)).toEqual(['a#1', 'b#1']);
  }, 30_000);

  it('on SIGTERM while another run asks for the same store: the second exits 2 (held), the first suspends and exits 143', async () => {
    const { db, env } = workspace();
    const first = startCli(['run', fixture('durable-steps.mjs'), '--store', db], { env: { ...env, TASKCHART_STEP_HOLD: '1' } });
    await first.waitForOutput((out) => /^ +\S+ {2}d {2}PENDING -> RUNNING$/m.test(out));
    // (Only the store's lock matters here: RUNNING is enough, whether or not d's function has begun.)

    const second = await runCli(['run', fixture('durable-steps.mjs'), '--store', db], { env });
    expect(second.code).toBe(2);
    expect(oneLineError(second)).toMatch(
      /^taskchart: ERR_STORE: Cannot open the task store `.*tasks\.db`: the file is held by another engine \(in another process\)/,
    );
    expect(second.stdout).toBe('');

    first.kill('SIGTERM');
    const stopped = await first.result;
    expect(stopped.code).toBe(143);
    expect(stopped.stdout).toMatch(/^ {2}unfinished +3$/m);
    expect(stopped.stdout).toMatch(
      /^interrupted: 3 of 5 tasks left for the next run \(stopping cancelled nothing\); to resume, run: node \S+\/dist\/cli\/main\.js run /m,
    );
  }, 30_000);

  it('exits 3 with one line when the store fails during the run, and the same store resumes afterwards', async () => {
    const { db, env } = workspace();
    const failing = await runCli(['run', fixture('failing-store.mjs')], { env: { ...env, TASKCHART_FAILING_STORE: db } });
    expect(failing.code).toBe(3);
    expect(oneLineError(failing)).toMatch(
      /^taskchart: the task store failed and the run stopped: ERR_STORE: .*No space left on device \(simulated\).*; \d tasks? unfinished\. The counts above are what this process saw; the store keeps its last commit: fix the cause, then resume with: node \S+\/dist\/cli\/main\.js run test\/fixtures\/graphs\/failing-store\.mjs$/,
    );
    expect(failing.stdout).toMatch(/^Summary$/m);

    // `second` was running as far as the store knows: its attempt counts as interrupted, and its retry completes it.
    const resumed = await runCli(['run', fixture('failing-store.mjs'), '--store', db], { env: { ...env, TASKCHART_FAILING_STORE: db } });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout.split('\n')[0]).toBe(`resuming from ${db}: 1 finished, 2 left (1 interrupted attempt counted)`);
    expect(resumed.stdout).toMatch(/^ {2}completed +3$/m);
  }, 30_000);

  it('stops cleanly when its reader goes away (EPIPE): suspended, exit 141, and the next run resumes without interrupted attempts', async () => {
    const { db, log, env } = workspace();
    const child = spawn(process.execPath, [cliBin, 'run', fixture('durable-steps.mjs'), '--store', db, '--json'], {
      cwd: repoRoot,
      env: { ...process.env, ...env, TASKCHART_STEP_HOLD: '1', TASKCHART_STEP_TICK: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (someCompletedOthersRunning(stdout)) {
          child.stdout.destroy(); // like `| head` exiting: the next write gets EPIPE
          resolve();
        }
      });
    });
    expect(await closed).toBe(141);
    const resumed = await runCli(['run', fixture('durable-steps.mjs'), '--store', db], { env });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout.split('\n')[0]).toBe(`resuming from ${db}: 2 finished, 3 left`);
    expect(ranSteps(log).filter((step) => step.startsWith('c#') || step.startsWith('d#'))).toEqual(['c#1', 'd#1', 'c#1', 'd#1']);
  }, 30_000);

  it('without a store, SIGINT still cancels: nothing is left to resume', async () => {
    const run = startCli(['run', fixture('slow.mjs'), '--concurrency', '2']);
    await run.waitForOutput((out) => (out.match(/PENDING -> RUNNING$/gm) ?? []).length >= 2);
    run.kill('SIGINT');
    const result = await run.result;
    expect(result.code).toBe(130);
    expect(result.stdout).toMatch(/^ {2}cancelled +8$/m);
    expect(result.stdout).not.toMatch(/interrupted:|resume/);
  }, 30_000);
});

describe('taskchart run --store: bad input exits 2 with one line', () => {
  it('refuses a file that is not a taskchart store and leaves it untouched', async () => {
    const { db, env } = workspace();
    writeFileSync(db, 'date,celsius\n2026-01-01,4.5\n'.repeat(20));
    const before = readFileSync(db);
    const result = await runCli(['run', fixture('durable-steps.mjs'), '--store', db], { env });
    expect(result.code).toBe(2);
    expect(oneLineError(result)).toMatch(
      /^taskchart: ERR_STORE: Cannot open the task store `.*tasks\.db`: expected an SQLite database \(a taskchart store\), found a file that is not one/,
    );
    expect(readFileSync(db).equals(before)).toBe(true);
  });

  it('refuses an inline fn on a durable engine, and leaves the store empty for the next run', async () => {
    const { db, log, env } = workspace();
    const bad = await runCli(['run', fixture('durable-then-throws.mjs'), '--store', db], { env });
    expect(bad.code).toBe(2);
    expect(oneLineError(bad)).toMatch(
      /Invalid task graph in .*durable-then-throws\.mjs.*ERR_INVALID_OPTION: Expected a `handler` .* got an inline `fn`/,
    );

    const next = await runCli(['run', fixture('durable-steps.mjs'), '--store', db], { env });
    expect(next.code).toBe(0);
    expect(next.stdout).not.toMatch(/resuming/);
    expect(next.stdout).toMatch(/^ {2}completed +5$/m);
    expect(ranSteps(log)).toHaveLength(5);
  }, 30_000);

  const cases: [string, string[], RegExp][] = [
    [
      '`handlers` that is not an object',
      ['run', fixture('handlers-not-object.mjs')],
      /exports `handlers` that are not task functions: expected an object of name -> function .*, got a string$/,
    ],
    [
      'a `handlers` entry that is not a function',
      ['run', fixture('handler-not-function.mjs')],
      /exports `handlers` that are not task functions: .*got `handlers\["report"\]` of type string$/,
    ],
    ['an empty --store', ['run', fixture('durable-steps.mjs'), '--store', ''], /Expected `--store` to be a file path, got an empty string/],
    ['--store without a value', ['run', fixture('durable-steps.mjs'), '--store'], /Option '--store <value>' argument missing/],
  ];
  it.each(cases)('%s', async (_label, args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(oneLineError(result)).toMatch(message);
    expect(result.stdout).toBe('');
  });
});

describe('the line after a stop', () => {
  it('counts memory-only (durable: false) tasks apart: the resumed run will not have them', () => {
    expect(suspendedLine(3, 5, 'taskchart run g.mjs --store t.db', 2)).toBe(
      'interrupted: 3 of 5 tasks left for the next run (stopping cancelled nothing); 2 memory-only tasks (durable: false) will not run again; to resume, run: taskchart run g.mjs --store t.db',
    );
    expect(suspendedLine(0, 5, 'taskchart run g.mjs', 1)).toBe(
      'interrupted: nothing the store keeps is left to resume; 1 memory-only task (durable: false) will not run again',
    );
  });
});

describe('the command that resumes a run', () => {
  const argv = ['run', 'graphs/my graph.mjs', '--store', 'tasks.db'];

  it('is `npx taskchart ...` when taskchart runs from an installed package', () => {
    expect(resumeCommand(argv, { script: '/home/me/app/node_modules/.bin/taskchart', cwd: '/home/me/app' })).toBe(
      "npx taskchart run 'graphs/my graph.mjs' --store tasks.db",
    );
    expect(resumeCommand(argv, { script: '/home/me/app/node_modules/taskchart/dist/cli/main.js', cwd: '/home/me/app' })).toBe(
      "npx taskchart run 'graphs/my graph.mjs' --store tasks.db",
    );
    expect(resumeCommand(argv, { script: '/usr/local/bin/taskchart', cwd: '/home/me/app' })).toBe(
      "npx taskchart run 'graphs/my graph.mjs' --store tasks.db",
    );
  });

  it('is `node <absolute path>` when it runs from a checkout (dist/cli/main.js), wherever it was started', () => {
    expect(resumeCommand(argv, { script: 'dist/cli/main.js', cwd: '/src/taskchart' })).toBe(
      "node /src/taskchart/dist/cli/main.js run 'graphs/my graph.mjs' --store tasks.db",
    );
  });

  it('goes to the directory the paths are relative to first when an npm script ran it from another one', () => {
    expect(
      resumeCommand(argv, { script: '/home/me/app/node_modules/.bin/taskchart', cwd: '/home/me/app', initCwd: '/home/me/app/src' }),
    ).toBe("cd /home/me/app && npx taskchart run 'graphs/my graph.mjs' --store tasks.db");
    expect(resumeCommand(argv, { script: '/home/me/app/node_modules/.bin/taskchart', cwd: '/home/me/app', initCwd: '/home/me/app/' })).toBe(
      "npx taskchart run 'graphs/my graph.mjs' --store tasks.db",
    );
  });
});
