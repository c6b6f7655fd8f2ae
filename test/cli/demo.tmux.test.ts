/**
 * The demo as a person runs it: `node scripts/demo.mjs` (what `npm run demo` runs after building) in a
 * shell in a tmux pane, stopped with Ctrl-C (send-keys C-c, which the terminal delivers to the whole
 * foreground job), then run again. The screen has no events to await: the test polls it until what it
 * waits for shows. Skipped only when tmux is not installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, root } from './cli.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const session = `taskchart-demo-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync('tmux', args, { encoding: 'utf8' });
/** The whole pane, scrollback included, wrapped lines joined. */
const screen = (): string => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', session);
const type = (line: string): void => void tmux('send-keys', '-t', session, line, 'Enter');

async function screenUntil(shows: (text: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = screen();
    if (shows(text)) return text;
    if (Date.now() > deadline) throw new Error(`the screen never showed ${what}; it shows:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The largest `n/40 done` on the screen. */
const doneOf = (text: string): number => Math.max(0, ...[...text.matchAll(/(\d+)\/40 done \|/g)].map((m) => Number(m[1])));

describe.skipIf(!hasTmux)(`the demo in a terminal${hasTmux ? '' : ' (skipped: tmux is not installed)'}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskchart-demo-test-'));
  const workdir = join(dir, 'demo');
  beforeAll(buildCli, 60_000);
  afterAll(() => {
    spawnSync('tmux', ['kill-session', '-t', session]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops on Ctrl-C keeping its store, and the next run finishes only what was left, then deletes its directory', async () => {
    tmux('new-session', '-d', '-s', session, '-x', '220', '-y', '50', 'bash --norc --noprofile');
    type(`cd ${JSON.stringify(root)} && export TASKCHART_DEMO_DIR=${JSON.stringify(workdir)} && clear`);
    type(`${JSON.stringify(process.execPath)} scripts/demo.mjs; echo FIRST_EXIT=$?`);
    await screenUntil((text) => doneOf(text) >= 8, 'at least 8 tasks done');
    tmux('send-keys', '-t', session, 'C-c');
    const first = await screenUntil((text) => /^FIRST_EXIT=\d+$/m.test(text), 'the end of the first run');

    expect(first).toMatch(/^FIRST_EXIT=130$/m);
    const left = Number(/^interrupted: (\d+) of 40 tasks left for the next run \(stopping cancelled nothing\); to resume, run: taskchart run .*--store /m.exec(first)?.[1]);
    expect(left).toBeGreaterThan(0);
    expect(first).toMatch(/^ {2}unfinished +\d+$/m);
    expect(first).toContain('run `npm run demo` again to finish what was left');
    expect(existsSync(join(workdir, 'tasks.db'))).toBe(true);

    tmux('clear-history', '-t', session);
    type('clear');
    type(`${JSON.stringify(process.execPath)} scripts/demo.mjs; echo SECOND_EXIT=$?`);
    const second = await screenUntil((text) => /^SECOND_EXIT=\d+$/m.test(text), 'the end of the second run', 30_000);

    expect(second).toContain(`resuming from ${join(workdir, 'tasks.db')}: ${40 - left} finished, ${left} left`);
    // Exit 1 (the failures the demo intends), which the demo script reports as success.
    expect(second).toMatch(/^SECOND_EXIT=0$/m);
    expect(second).toMatch(/^ {2}total +40$/m);
    expect(second).toMatch(new RegExp(`^ {2}finished in earlier runs +${40 - left}$`, 'm'));
    expect(second).not.toMatch(/^ {2}unfinished/m);
    const count = (outcome: string): number => Number(new RegExp(`^ {2}${outcome} +(\\d+)$`, 'm').exec(second)?.[1]);
    expect(count('completed') + count('failed') + count('cancelled')).toBe(40);
    expect(existsSync(workdir)).toBe(false);
  }, 60_000);
});
