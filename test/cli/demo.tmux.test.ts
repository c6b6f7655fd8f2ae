/**
 * The demo as a person runs it: `node scripts/demo.mjs` (what `npm run demo` runs) in a shell in a tmux pane,
 * stopped with Ctrl-C (send-keys C-c, which the terminal delivers to the whole foreground job), then run again.
 * The test polls the screen until what it waits for shows. Skipped when tmux is not installed, except under CI.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, root } from './cli.js';
import { requireTmux, skipWithoutTmux, TmuxSession, tmuxTitle } from './tmux.js';

/** The largest `n/40 done` on the screen. */
const doneOf = (text: string): number => Math.max(0, ...[...text.matchAll(/(\d+)\/40 done \|/g)].map((m) => Number(m[1])));

describe.skipIf(skipWithoutTmux)(tmuxTitle('the demo in a terminal'), () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskchart-demo-test-'));
  const workdir = join(dir, 'demo');
  const session = new TmuxSession(`taskchart-demo-${process.pid}`);
  beforeAll(async () => {
    requireTmux();
    await buildCli();
  }, 60_000);
  afterAll(() => {
    session.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops on Ctrl-C keeping its store, and the next run finishes only what was left, then deletes its directory', async () => {
    session.start(220, 50);
    session.type(`cd ${JSON.stringify(root)} && unset INIT_CWD && export TASKCHART_DEMO_DIR=${JSON.stringify(workdir)} && clear`);
    session.type(`${JSON.stringify(process.execPath)} scripts/demo.mjs; echo FIRST_EXIT=$?`);
    await session.until((text) => doneOf(text) >= 8, 'at least 8 tasks done', { history: true });
    session.keys('C-c');
    const first = await session.until((text) => /^FIRST_EXIT=\d+$/m.test(text), 'the end of the first run', { history: true });

    expect(first).toMatch(/^FIRST_EXIT=130$/m);
    const hint = /^interrupted: (\d+) of 40 tasks left for the next run \(stopping cancelled nothing\); to resume, run: (.*)$/m.exec(first);
    const left = Number(hint?.[1]);
    expect(left).toBeGreaterThan(0);
    expect(hint?.[2]).toBe(
      `node ${join(root, 'dist/cli/main.js')} run ${join(root, 'examples/pipeline.js')} --store ${join(workdir, 'tasks.db')}`,
    );
    expect(first).toMatch(/^ {2}unfinished +\d+$/m);
    expect(first).toContain('run `npm run demo` again to finish what was left');
    expect(existsSync(join(workdir, 'tasks.db'))).toBe(true);
    expect(existsSync(join(workdir, 'demo.pid'))).toBe(false);

    session.run('clear-history', '-t', session.name);
    session.type('clear');
    session.type(`${JSON.stringify(process.execPath)} scripts/demo.mjs; echo SECOND_EXIT=$?`);
    const second = await session.until((text) => /^SECOND_EXIT=\d+$/m.test(text), 'the end of the second run', {
      history: true,
      timeoutMs: 30_000,
    });

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
