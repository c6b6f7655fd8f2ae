/**
 * Fault tests with real processes and real kills: a child process runs a graph of a few hundred
 * durable tasks (dependencies, retries, two that always fail, a worker-thread task); the test
 * SIGKILLs it at random moments (during registration, while running, in the middle of a commit),
 * starts a fresh process on the same file each time, and finally lets one run to the end. Then:
 * no task lost, every task in exactly one terminal status that its history explains, every
 * completed result as expected, dependency order held, and no attempt run twice.
 *
 * TASKCHART_KILL_RUNS=<n> sets the number of killed processes (default 10; a soak: 200).
 * TASKCHART_KILL_SEED=<n> replays the kill moments of a failing run.
 */
import { spawn } from 'node:child_process';
import { deserialize } from 'node:v8';
import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectedValues, killGraph, random } from '../fixtures/durable/graph.mjs';
import { tempDbPath } from './helpers.js';

const CHILD = fileURLToPath(new URL('../fixtures/durable/child.mjs', import.meta.url));
const CRAWL_CHILD = fileURLToPath(new URL('../fixtures/durable/crawl-child.mjs', import.meta.url));
const RUNS = Number(process.env.TASKCHART_KILL_RUNS ?? 10);
const SEED = Number(process.env.TASKCHART_KILL_SEED ?? Date.now() % 100_000);

interface ChildRun {
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the child; kills it with SIGKILL `killAfterMs` after it printed `after` (or after spawning). */
function runChild(
  db: string,
  log: string,
  kill?: { after?: string; ms: number },
  env: Record<string, string> = {},
  script = CHILD,
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, db, log], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let armed = false;
    const arm = () => {
      if (armed || kill === undefined) return;
      armed = true;
      setTimeout(() => child.kill('SIGKILL'), kill.ms);
    };
    if (kill?.after === undefined) arm();
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      // A batch registered by an earlier process is not announced again: then the kill is timed from `started`.
      if (kill?.after !== undefined && (stdout.includes(kill.after) || stdout.includes('started'))) arm();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

interface Outcome {
  readonly status: string;
  readonly attempts: number;
  /** Attempts re-run free after an interruption (at most maxInterruptions, 1). */
  readonly interruptions: number;
  readonly value?: number;
  readonly code?: string;
  readonly message?: string;
}

/** Every invariant of the final outcome and the executions log; returns the problems found. */
function problemsOf(outcome: Record<string, Outcome>, logText: string): string[] {
  const graph = killGraph();
  const expected = expectedValues(graph);
  const problems: string[] = [];
  const executions = new Map<string, number[]>();
  for (const line of logText.trim().split('\n').filter(Boolean)) {
    const [id, attempt] = line.split(' ');
    const list = executions.get(id as string) ?? [];
    list.push(Number(attempt));
    executions.set(id as string, list);
  }
  for (const task of graph) {
    const got = outcome[task.id];
    if (got === undefined) {
      problems.push(`${task.id} lost`);
      continue;
    }
    const ran = executions.get(task.id) ?? [];
    if (new Set(ran).size !== ran.length) problems.push(`${task.id} ran an attempt twice: ${ran.join(',')}`);
    if (ran.some((attempt) => attempt > got.attempts))
      problems.push(`${task.id} ran attempt ${Math.max(...ran)} but counts ${got.attempts}`);
    if (got.interruptions > 1) problems.push(`${task.id} re-ran free ${got.interruptions} times, more than maxInterruptions 1`);
    const depsCompleted = task.deps.every((dep) => outcome[dep]?.status === 'COMPLETED');
    switch (got.status) {
      case 'COMPLETED':
        if (got.value !== expected.get(task.id)) problems.push(`${task.id} completed with ${got.value}, expected ${expected.get(task.id)}`);
        if (!depsCompleted) problems.push(`${task.id} completed although a dependency did not`);
        if (task.doomed) problems.push(`${task.id} should always fail`);
        if (!task.pool && !ran.includes(got.attempts)) problems.push(`${task.id} completed by attempt ${got.attempts}, which never ran`);
        break;
      case 'FAILED':
        if (got.code === 'ERR_DEPENDENCY_FAILED') {
          if (!task.deps.some((dep) => outcome[dep]?.status === 'FAILED'))
            problems.push(`${task.id} failed for a dependency, but none failed`);
        } else if (got.code === 'ERR_INTERRUPTED') {
          // Its free re-run (maxInterruptions 1) used, then maxRetries + 1 counted attempts.
          if (got.interruptions !== 1 || got.attempts !== task.maxRetries + 2)
            problems.push(`${task.id} failed interrupted after ${got.attempts} attempts, ${got.interruptions} of them re-run free`);
        } else if (!(task.doomed && got.code === 'ERR_NON_RETRYABLE' && /always fails/.test(got.message ?? ''))) {
          problems.push(`${task.id} failed unexpectedly: ${got.code} ${got.message}`);
        }
        break;
      default:
        problems.push(`${task.id} ended ${got.status}`);
    }
  }
  return problems;
}

async function finish(db: string, log: string): Promise<Record<string, Outcome>> {
  const last = await runChild(db, log);
  expect(last.stderr, 'the final process ran cleanly').toBe('');
  expect(last.code).toBe(0);
  return JSON.parse(last.stdout.trim().split('\n').at(-1) as string) as Record<string, Outcome>;
}

describe('durability under SIGKILL (real processes)', () => {
  it(
    `loses nothing when the process is killed at random moments (${RUNS} kills, seed ${SEED})`,
    { timeout: 60_000 + RUNS * 3_000 },
    async () => {
      const db = tempDbPath();
      const log = `${db}.executions`;
      const next = random(SEED);
      const phases: string[] = [];
      for (let run = 0; run < RUNS; run++) {
        // A third of the kills right after a registration batch, the rest at a random moment of the run.
        const kill =
          run % 3 === 0
            ? { after: `registered ${1 + Math.floor(next() * 6)}`, ms: Math.floor(next() * 3) }
            : { after: 'started', ms: Math.floor(next() * 80) };
        const result = await runChild(db, log, kill);
        expect(result.code, `run ${run} exited by itself: ${result.stderr}`).not.toBe(3);
        if (result.signal === 'SIGKILL') phases.push(result.stdout.includes('started') ? 'running' : 'registering');
        else phases.push('finished');
      }
      // Kills landed both while batches were being registered and while tasks ran.
      expect(phases, `seed ${SEED}`).toContain('registering');
      expect(phases, `seed ${SEED}`).toContain('running');
      const outcome = await finish(db, log);
      expect(problemsOf(outcome, existsSync(log) ? readFileSync(log, 'utf8') : ''), `seed ${SEED}, phases: ${phases.join(', ')}`).toEqual(
        [],
      );
      // Interrupted attempts were re-run: a task that never fails on its own completed on a later attempt.
      const graph = killGraph();
      const retriedAfterInterruption = graph.filter(
        (t) => !t.flaky && !t.doomed && outcome[t.id]?.status === 'COMPLETED' && (outcome[t.id]?.attempts ?? 0) > 1,
      );
      expect(retriedAfterInterruption.length, `seed ${SEED}`).toBeGreaterThan(0);
    },
  );

  it(
    'resumes a checkpointing task from its last committed heartbeat after a SIGKILL, free of maxRetries',
    { timeout: 60_000 },
    async () => {
      const db = tempDbPath();
      const log = `${db}.crawl`;
      const pagesLogged = () => (existsSync(log) ? (readFileSync(log, 'utf8').match(/^page /gm)?.length ?? 0) : 0);
      // Killed mid-crawl: once a good part of the pages were done (and checkpointed).
      const killed = await new Promise<ChildRun>((resolve, reject) => {
        const child = spawn(process.execPath, [CRAWL_CHILD, db, log], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
        const poll = setInterval(() => {
          if (pagesLogged() >= 100) child.kill('SIGKILL');
        }, 5);
        child.on('error', reject);
        child.on('close', (code, signal) => {
          clearInterval(poll);
          resolve({ code, signal, stdout: '', stderr });
        });
      });
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      // What the store holds: the checkpoint of a page the crawl reached (committed by a group commit before the kill).
      const file = new Database(db, { readonly: true });
      const row = file.prepare('SELECT state, checkpoint FROM tasks WHERE id = ?').get('crawl') as { state: string; checkpoint: Buffer };
      file.close();
      expect(row.state).toBe('running');
      const committed = (deserialize(row.checkpoint) as { page: number }).page;
      const before = readFileSync(log, 'utf8');
      const lastLogged = Math.max(...[...before.matchAll(/^page (\d+)$/gm)].map((m) => Number(m[1])));
      expect(committed).toBeGreaterThan(0);
      expect(committed).toBeLessThanOrEqual(lastLogged);

      const last = await runChild(db, log, undefined, {}, CRAWL_CHILD);
      expect(last.stderr).toBe('');
      const outcome = JSON.parse(last.stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>;
      // maxRetries 0, yet it completed: the interrupted attempt re-ran free, from the page after its checkpoint.
      expect(outcome).toEqual({ status: 'COMPLETED', attempts: 2, interruptions: 1, result: { pages: 400 } });
      const after = readFileSync(log, 'utf8').slice(before.length);
      expect(after.split('\n')[0]).toBe(`attempt 2 from ${committed + 1}`);
      const pages = [...after.matchAll(/^page (\d+)$/gm)].map((m) => Number(m[1]));
      expect(pages).toEqual(Array.from({ length: 400 - committed - 1 }, (_, i) => committed + 1 + i));
    },
  );

  it('keeps a batch all or nothing when the kill lands in the middle of its commit', { timeout: 60_000 }, async () => {
    // The killer thread is woken as the commit of the 300-task batch begins; on a slow machine the
    // commit may win the race, so a few fresh files are tried until a kill lands inside it.
    for (let tries = 1; ; tries++) {
      const db = tempDbPath();
      const log = `${db}.executions`;
      const killed = await runChild(db, log, undefined, { BATCH: '300', KILL_IN_COMMIT: '0' });
      expect(killed.signal).toBe('SIGKILL');
      if (!killed.stderr.includes('killing mid-commit')) {
        expect(tries, 'no kill landed inside the commit in 8 tries').toBeLessThan(8);
        continue;
      }
      // The restarted process finds the batch whole or absent (a torn batch makes it exit 3), and finishes.
      const outcome = await finish(db, log);
      expect(problemsOf(outcome, existsSync(log) ? readFileSync(log, 'utf8') : '')).toEqual([]);
      return;
    }
  });
});
