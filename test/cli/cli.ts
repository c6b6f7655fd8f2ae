/** Builds dist once per test run (files share a lock) and runs the real `taskchart` binary. */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const bin = join(root, 'dist/cli/main.js');
export const fixture = (name: string): string => join('test/fixtures/graphs', name);
/** A graph module of the CLI's own tests (test/cli/fixtures), relative to the repository root. */
export const cliFixture = (name: string): string => join('test/cli/fixtures', name);

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
export function runCli(args: readonly string[], options: { env?: Record<string, string> } = {}): Promise<CliResult> {
  return runFile(process.execPath, [bin, ...args], options);
}

/** Runs `command` as `sh -c` runs a line typed in a shell, from the repository root, with npm's INIT_CWD unset. */
export function runShell(command: string, options: { env?: Record<string, string> } = {}): Promise<CliResult> {
  return runFile('sh', ['-c', command], { env: { ...options.env, INIT_CWD: '' } });
}

function runFile(file: string, args: readonly string[], options: { env?: Record<string, string> }): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const env = { ...process.env, ...options.env };
    const child = execFile(file, args, { cwd: root, timeout: 15_000, env }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolvePromise({ code: child.exitCode ?? code, signal: child.signalCode, stdout, stderr });
    });
  });
}

/** A running `taskchart` whose output the test reads as it comes. */
export interface LiveCli {
  readonly pid: number;
  /** Resolves when stdout so far satisfies `ready` (checked at every chunk); rejects if the command ends first. */
  waitForOutput(ready: (stdout: string) => boolean): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  readonly result: Promise<CliResult>;
}

/** Starts `node dist/cli/main.js ...args` like {@link runCli}, for a test that acts on its output while it runs. */
export function startCli(args: readonly string[], options: { env?: Record<string, string> } = {}): LiveCli {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { ready: (stdout: string) => boolean; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const waiter of [...waiters]) {
      if (!waiter.ready(stdout)) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<CliResult>((resolvePromise) => {
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  void result.then(() => clearTimeout(timer));
  return {
    pid: child.pid as number,
    waitForOutput(ready) {
      if (ready(stdout)) return Promise.resolve();
      return new Promise((resolvePromise, reject) => {
        waiters.push({ ready, resolve: resolvePromise });
        void result.then((r) =>
          reject(new Error(`taskchart ended (exit ${r.code}) before the expected output; stdout:\n${r.stdout}\nstderr:\n${r.stderr}`)),
        );
      });
    },
    kill: (signal) => child.kill(signal),
    result,
  };
}

/** The JSON objects of `--json` output that are complete lines so far. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .slice(0, -1)
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
