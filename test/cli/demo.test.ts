/**
 * `npm run demo` (scripts/demo.mjs) around the command: it runs dist/ as built, says what to do when dist/ is
 * missing, and refuses, saying why, to start while another demo runs in the same work directory.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, root, type CliResult } from './cli.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'taskchart-demo-script-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function runDemo(script: string, workdir: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [script],
      { cwd: root, timeout: 15_000, env: { ...process.env, TASKCHART_DEMO_DIR: workdir } },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr }),
    );
  });
}

/** Starts the demo and resolves once it runs a task (its plain view says `-> RUNNING`). */
async function startDemo(workdir: string): Promise<{ pid: number; output: () => string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, ['scripts/demo.mjs'], {
    cwd: root,
    env: { ...process.env, TASKCHART_DEMO_DIR: workdir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (/ -> RUNNING$/m.test(output)) resolve();
    });
    void ended.then((code) => reject(new Error(`the demo ended (exit ${code}) before running a task:\n${output}`)));
  });
  return {
    pid: child.pid as number,
    output: () => output,
    stop: () => {
      child.kill('SIGTERM');
      return ended;
    },
  };
}

describe('npm run demo', () => {
  beforeAll(buildCli, 60_000);

  it('refuses a second demo while one runs in the same directory, saying what is happening and what to do; the first runs on', async () => {
    const workdir = join(tempDir(), 'demo');
    const first = await startDemo(workdir);

    const second = await runDemo('scripts/demo.mjs', workdir);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(
      `demo: another demo (process ${first.pid}) is running in ${workdir}, and its task store is held by one run at a time.`,
    );
    expect(second.stderr).toMatch(/Wait for it to end, or stop it \(Ctrl-C in its terminal/);
    expect(second.stderr).toContain(`TASKCHART_DEMO_DIR=${workdir}-2 npm run demo`);
    expect(second.stdout).toBe('');

    expect(await first.stop()).toBe(143);
    expect(first.output()).toMatch(/^interrupted: \d+ of 40 tasks left for the next run/m);
    expect(existsSync(join(workdir, 'tasks.db'))).toBe(true);
    expect(existsSync(join(workdir, 'demo.pid'))).toBe(false);
  }, 30_000);

  it('takes over the directory of a demo that was killed (its demo.pid names a process that is gone)', async () => {
    const workdir = join(tempDir(), 'demo');
    const gone = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '0']);
      child.on('close', () => resolve(child.pid as number));
    });
    mkdirSync(workdir, { recursive: true });
    writeFileSync(join(workdir, 'demo.pid'), String(gone));

    const demo = await startDemo(workdir);
    expect(readFileSync(join(workdir, 'demo.pid'), 'utf8')).toBe(String(demo.pid));
    expect(await demo.stop()).toBe(143);
  }, 30_000);

  it('says to run `npm run build` when dist/ is missing, without running anything', async () => {
    const copy = tempDir();
    mkdirSync(join(copy, 'scripts'));
    copyFileSync(join(root, 'scripts/demo.mjs'), join(copy, 'scripts/demo.mjs'));
    const result = await runDemo(join(copy, 'scripts/demo.mjs'), join(copy, 'work'));
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      `demo: the built command ${join(copy, 'dist/cli/main.js')} is missing: run \`npm run build\` (npm install runs it too), then \`npm run demo\` again`,
    );
    expect(existsSync(join(copy, 'work'))).toBe(false);
  });
});
