/**
 * A thousand remote tasks on three real `taskchart worker` processes, one of which is SIGKILLed midway: a seeded
 * DAG with planned failures and cancels, against the Redis at 127.0.0.1:6379 (dist/, so `npm run build` first).
 * The invariants are those of docs/scale-out.md: no task lost, one terminal status each, outcomes that follow
 * from the dependencies, a crashed attempt failed with ERR_WORKER_CRASHED within 10 s and retried on a worker
 * that is alive, and no attempt run twice. Without Redis the test is skipped, except under CI.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RetryEvent, StatusEvent, TaskInfo } from '../../src/index.js';
import { random } from '../fixtures/durable/graph.mjs';
import { REDIS_URL, probeRedis } from './harness.js';
import { cleanupAfterEach, newEngine, startWorker, stopProcess, watchQueue, type WorkerProcess } from './processes.js';

const unreachable = await probeRedis();
if (unreachable !== undefined && process.env.CI) throw new Error(`Redis at ${REDIS_URL} is required under CI: ${unreachable}`);
if (unreachable !== undefined) console.log(`test/bullmq/scale skipped: no Redis at ${REDIS_URL} (${unreachable})`);

cleanupAfterEach();

const HANDLERS = fileURLToPath(new URL('../fixtures/bullmq-scale-handlers.mjs', import.meta.url));
const SIZE = 1000;
const WORKERS = 3;
const PER_WORKER = 4;
/** The kill comes once this many tasks have completed. */
const KILL_AFTER = 300;

interface Planned {
  readonly id: string;
  readonly handler: 'step' | 'long' | 'planned';
  /** `early`: cancelled before anything runs; `running`: cancelled 50 ms after it is RUNNING. */
  readonly cancel: 'none' | 'early' | 'running';
  readonly dependencies: readonly string[];
}

/** Each task depends on up to two of the 100 before it. */
function plan(seed: number): Planned[] {
  const next = (random as (seed: number) => () => number)(seed);
  const tasks: Planned[] = [];
  for (let i = 0; i < SIZE; i++) {
    const r = next();
    const handler = r < 0.015 ? 'planned' : r < 0.07 ? 'long' : 'step';
    const cancel = handler === 'long' && next() < 0.3 ? 'running' : next() < 0.005 ? 'early' : 'none';
    const dependencies = new Set<string>();
    const count = i === 0 ? 0 : Math.floor(next() * 3);
    for (let d = 0; d < count; d++) dependencies.add(`t${Math.max(0, i - 1 - Math.floor(next() * 100))}`);
    tasks.push({ id: `t${i}`, handler, cancel, dependencies: [...dependencies] });
  }
  return tasks;
}

describe.skipIf(unreachable !== undefined)('a thousand remote tasks, one worker killed midway', () => {
  it(
    'loses no task, ends each once as its dependencies say, and retries the crashed attempts on live workers',
    { timeout: 90_000 },
    async () => {
      const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
      const { queue } = await watchQueue(REDIS_URL, queueName);
      const workers: WorkerProcess[] = [];
      for (let i = 0; i < WORKERS; i++)
        workers.push(await startWorker(REDIS_URL, queueName, ['--concurrency', String(PER_WORKER)], HANDLERS));
      const [victim, ...survivors] = workers as [WorkerProcess, ...WorkerProcess[]];
      const { engine, events } = newEngine(REDIS_URL, queueName, { concurrency: WORKERS * PER_WORKER });
      const tasks = plan(11);
      const byId = new Map(tasks.map((task) => [task.id, task]));
      engine.registerTasks(
        tasks.map((t) => ({
          id: t.id,
          name: t.id,
          executor: 'remote',
          handler: t.handler,
          args: t.handler === 'planned' ? [] : [t.handler === 'long' ? 500 : 5 + (Number(t.id.slice(1)) % 20)],
          dependencies: [...t.dependencies],
          maxRetries: 2,
          retryDelay: 10,
        })),
      );
      for (const task of tasks) if (task.cancel === 'early') engine.cancelTask(task.id, 'cancelled early');

      let completed = 0;
      let enoughDone!: () => void;
      const halfway = new Promise<void>((resolve) => (enoughDone = resolve));
      engine.events.subscribe((event) => {
        if (event.type !== 'status') return;
        if (event.status === 'COMPLETED' && ++completed === KILL_AFTER) enoughDone();
        if (event.status === 'RUNNING' && byId.get(event.taskId)?.cancel === 'running') {
          setTimeout(() => {
            if (!['COMPLETED', 'FAILED', 'CANCELLED'].includes(engine.getTaskStatus(event.taskId)))
              engine.cancelTask(event.taskId, 'cancelled while running');
          }, 50);
        }
      });
      // The dependents of an early cancel are CANCELLED already.
      for (const task of tasks) if (engine.getTaskStatus(task.id) === 'PENDING') engine.startTask(task.id);

      // Midway, kill the victim just after it took a long task that nobody cancels: that attempt is surely in flight.
      await halfway;
      const uncancelledLong = tasks.filter((t) => t.handler === 'long' && t.cancel === 'none').map((t) => t.id);
      await victim.lines.waitFor(new RegExp(`^event start (${uncancelledLong.join('|')}) \\d+$`), 30_000, Date.now());
      const killedAt = Date.now();
      await stopProcess(victim.child, 'SIGKILL');
      await engine.onIdle();
      for (const worker of survivors) await stopProcess(worker.child); // every line they printed is read

      const info = new Map<string, TaskInfo>(tasks.map((t) => [t.id, engine.getTask(t.id)]));
      const statusEvents = events.filter((e): e is StatusEvent => e.type === 'status');

      // Every task ended, exactly once.
      for (const task of tasks) {
        const terminal = statusEvents.filter((e) => e.taskId === task.id && ['COMPLETED', 'FAILED', 'CANCELLED'].includes(e.status));
        expect(terminal, task.id).toHaveLength(1);
        expect(terminal[0]?.status, task.id).toBe(info.get(task.id)?.status);
      }

      // Outcomes follow from the dependencies' outcomes and the task's own plan.
      const starts = workers.flatMap((worker) => worker.lines.texts().filter((line) => line.startsWith('event start ')));
      for (const task of tasks) {
        const own = info.get(task.id) as TaskInfo;
        const deps = task.dependencies.map((d) => info.get(d) as TaskInfo);
        const ran = starts.some((line) => line.startsWith(`event start ${task.id} `));
        if (task.cancel === 'early') {
          expect(own.status, task.id).toBe('CANCELLED');
        } else if (deps.every((d) => d.status === 'COMPLETED')) {
          expect(ran, task.id).toBe(true);
          for (const d of deps)
            expect(own.startedAt as number, `${task.id} started after ${d.id} finished`).toBeGreaterThanOrEqual(d.finishedAt as number);
          if (task.cancel === 'running') expect(own.status, task.id).toBe('CANCELLED');
          else if (task.handler === 'planned') expect(own, task.id).toMatchObject({ status: 'FAILED', error: { code: 'E_PLANNED' } });
          else expect(own, task.id).toMatchObject({ status: 'COMPLETED', result: { id: task.id, attempt: own.attempts } });
        } else {
          expect(ran, `${task.id} ran though a dependency did not complete`).toBe(false);
          const failed = deps.some((d) => d.status === 'FAILED');
          const cancelled = deps.some((d) => d.status === 'CANCELLED');
          if (failed && !cancelled) expect(own, task.id).toMatchObject({ status: 'FAILED', error: { code: 'ERR_DEPENDENCY_FAILED' } });
          else if (cancelled && !failed) expect(own.status, task.id).toBe('CANCELLED');
          else expect(['FAILED', 'CANCELLED'], task.id).toContain(own.status);
        }
      }

      // The victim's attempts in flight failed with ERR_WORKER_CRASHED within 10 s and ran again on a live worker.
      const crashes = events.filter(
        (e): e is RetryEvent => e.type === 'retry' && (e.error as { code?: string }).code === 'ERR_WORKER_CRASHED',
      );
      expect(crashes.length).toBeGreaterThanOrEqual(1);
      for (const crash of crashes) {
        expect(crash.timestamp - killedAt, crash.taskId).toBeLessThan(10_000);
        const rerun = `event start ${crash.taskId} ${crash.attempt}`;
        if (byId.get(crash.taskId)?.cancel === 'none')
          expect(
            survivors.some((worker) => worker.lines.has(rerun)),
            rerun,
          ).toBe(true);
      }

      // No attempt ran twice, and nothing is left in the queue.
      expect(new Set(starts).size).toBe(starts.length);
      // The dead worker's last job stays `active` in Redis until a live worker's stall check (every 4 s) moves it; a
      // crashed attempt now re-runs at once (maxCrashes), so the run can end before that check: wait for it, bounded.
      await expect.poll(async () => (await queue.getJobCounts('active')).active, { timeout: 10_000, interval: 250 }).toBe(0);
      expect(await queue.getJobCounts('wait', 'active', 'prioritized', 'delayed')).toEqual({
        wait: 0,
        active: 0,
        prioritized: 0,
        delayed: 0,
      });
      const counts = engine.getStats().counts;
      expect(counts.COMPLETED).toBeGreaterThan(SIZE / 2);
      console.log(
        `scale test: ${JSON.stringify(counts)}, ${crashes.length} crashed attempts retried, detected ${Math.max(...crashes.map((c) => c.timestamp - killedAt))} ms after the kill at the latest`,
      );
    },
  );
});
