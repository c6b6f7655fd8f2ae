/**
 * The live view in a real terminal: tmux runs the command in a detached pane, and the test reads the screen
 * (capture-pane) until it shows what each step waits for. Skipped when tmux is not installed, except under CI.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bin, buildCli, cliFixture, fixture, root } from './cli.js';
import { FAILURE } from './fixtures/narrow.mjs';
import { requireTmux, skipWithoutTmux, TmuxSession, tmuxTitle } from './tmux.js';

const summaryLines = (text: string, total: number): string[] =>
  text.split('\n').filter((line) => new RegExp(`\\d+/${total} done \\|`).test(line));
/** The rows of running tasks: `  ==========----------  50% name message`. */
const taskRows = (text: string): string[] => text.split('\n').filter((line) => /^ {2}[=-]{10,20} +\d+% /.test(line));
const sessions: TmuxSession[] = [];

/** A pane of `columns` running `taskchart run <args>`, then `EXIT=<code>`. */
function runInTerminal(columns: number, args: string): TmuxSession {
  const session = new TmuxSession(`taskchart-cli-${process.pid}-${sessions.length}`);
  sessions.push(session);
  session.start(
    columns,
    30,
    `cd ${JSON.stringify(root)} && ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} run ${args}; echo EXIT=$?; sleep 60`,
  );
  return session;
}

describe.skipIf(skipWithoutTmux)(tmuxTitle('live view in a terminal'), () => {
  beforeAll(async () => {
    requireTmux();
    await buildCli();
  }, 60_000);
  afterEach(() => {
    for (const session of sessions.splice(0)) session.kill();
  });

  it('redraws the summary line and the task bars in place', async () => {
    const session = runInTerminal(140, `${fixture('slow.mjs')} --concurrency 3`);
    const early = await session.until(
      (text) => summaryLines(text, 8).length > 0 && /\d+% slow:\d chunk/.test(text),
      'the summary and a task bar',
    );
    const later = await session.until((text) => summaryLines(text, 8)[0] !== summaryLines(early, 8)[0], 'the summary line redrawn');

    expect(summaryLines(early, 8)).toHaveLength(1);
    expect(summaryLines(later, 8)).toHaveLength(1);
    expect(early.split('\n')[0]).toMatch(
      /^[=-]{20} \d+\/8 done \| \d+ failed \| \d+ running \| \d+ queued \| [\d.]+\/s \| \S+ elapsed \| (~\S+ left|time left unknown)$/,
    );
    expect(later.split('\n')[0]).toMatch(/\d+\/8 done/);

    const final = await session.until((text) => /EXIT=\d+/.test(text), 'the end of the run');
    expect(final).toMatch(/EXIT=0/);
    expect(summaryLines(final, 8)).toEqual([expect.stringMatching(/8\/8 done/)]);
    expect(final).toMatch(/^ {2}completed +8$/m);
  }, 20_000);

  it('at 80 columns cuts log lines and rows to the width, keeps the time elapsed and left, logs a cancellation, and draws no row for a free slot', async () => {
    const session = runInTerminal(80, cliFixture('narrow.mjs'));
    // `victim` cancelled, `fails` failed: `long` runs alone, in a view that had three rows.
    const alone = await session.until(
      (text) => /\| 1 cancelled \| 1 running \|/.test(text) && /^CANCELLED/m.test(text),
      'one task left running after a cancellation',
    );

    for (const line of alone.split('\n')) expect(line.length, `screen line: ${line}`).toBeLessThan(80);
    const failed = alone.split('\n').find((line) => line.startsWith('FAILED'));
    expect(failed).toMatch(/^FAILED {4}fails: Error: the upstream service .*…$/);
    expect(`FAILED    fails: Error: ${FAILURE}`.startsWith((failed as string).slice(0, -1))).toBe(true);
    expect(alone).toMatch(/^CANCELLED victim: ERR_TASK_CANCELLED: Task `victim` was cancelled: not needed/m);
    expect(summaryLines(alone, 4)).toEqual([
      expect.stringMatching(/^1\/4 done \| 1 failed \| 1 cancelled \| 1 running \| \S+ elapsed \| (~\S+ left|time left unknown)$/),
    ]);
    expect(taskRows(alone)).toEqual([
      expect.stringMatching(/^ {2}[=-]{10} +\d+% long-running-task-with-a-name-that-goes-on step \d+ of 40: .*…$/),
    ]);
    expect(alone).not.toMatch(/idle/);

    const final = await session.until((text) => /EXIT=\d+/.test(text), 'the end of the run');
    expect(final).toMatch(/EXIT=1/);
    expect(final).toMatch(/^ {2}cancelled +1$/m);
  }, 20_000);
});
