/** Builds dist once per test run (files share a lock) and runs the real `taskchart` binary. */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const bin = join(root, 'dist/cli/main.js');
export const fixture = (name: string): string => join('test/fixtures/graphs', name);

const lock = join(tmpdir(), `taskchart-cli-build-${Buffer.from(root).toString('hex').slice(-24)}`);

/**
 * `tsc -p tsconfig.build.json`. Errors elsewhere in src (work in progress on other entry points)
 * do not stop the CLI from being emitted, so only errors under src/cli fail the build here.
 */
export async function buildCli(): Promise<void> {
  while (!tryLock()) await new Promise((r) => setTimeout(r, 100));
  try {
    let output = '';
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? '');
    }
    const cliErrors = output.split('\n').filter((line) => line.startsWith('src/cli/'));
    if (cliErrors.length > 0) throw new Error(`the CLI does not build:\n${cliErrors.join('\n')}`);
  } finally {
    rmdirSync(lock);
  }
}

function tryLock(): boolean {
  try {
    mkdirSync(lock);
    return true;
  } catch {
    return false;
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli/main.js ...args` from the repository root, stdout a pipe (not a TTY). */
export function runCli(args: readonly string[], options: { onSpawn?: (pid: number) => void } = {}): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(process.execPath, [bin, ...args], { cwd: root, timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolvePromise({ code: child.exitCode ?? code, signal: child.signalCode, stdout, stderr });
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
  });
}
