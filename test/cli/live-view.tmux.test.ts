/**
 * The live view in a real terminal: tmux runs the command in a detached pane, capture-pane
 * reads the screen at two moments. Skipped only when tmux is not installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, buildCli, fixture, root } from './cli.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const session = `taskchart-cli-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = (): string => tmux('capture-pane', '-p', '-t', session);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const summaryLines = (text: string): string[] => text.split('\n').filter((line) => /\d+\/8 done \|/.test(line));

describe.skipIf(!hasTmux)(`live view in a terminal${hasTmux ? '' : ' (skipped: tmux is not installed)'}`, () => {
  beforeAll(buildCli, 60_000);
  afterAll(() => {
    spawnSync('tmux', ['kill-session', '-t', session]);
  });

  it('redraws the summary line and the task bars in place', async () => {
    const command = `cd ${JSON.stringify(root)} && ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} run ${fixture('slow.mjs')} --concurrency 3; echo EXIT=$?; sleep 60`;
    tmux('new-session', '-d', '-s', session, '-x', '140', '-y', '30', command);
    await sleep(1200);
    const early = screen();
    await sleep(2400);
    const later = screen();

    expect(summaryLines(early)).toHaveLength(1);
    expect(summaryLines(later)).toHaveLength(1);
    expect(summaryLines(later)[0]).not.toBe(summaryLines(early)[0]);
    expect(early).toMatch(/\d+% slow:\d chunk/);
    expect(early.split('\n')[0]).toMatch(/\d+\/8 done/);
    expect(later.split('\n')[0]).toMatch(/\d+\/8 done/);

    let final = screen();
    for (let i = 0; i < 100 && !/EXIT=\d+/.test(final); i++) {
      await sleep(100);
      final = screen();
    }
    expect(final).toMatch(/EXIT=0/);
    expect(summaryLines(final)).toEqual([expect.stringMatching(/8\/8 done/)]);
    expect(final).toMatch(/^ {2}completed +8$/m);
  }, 20_000);
});
