/** `taskchart worker`: bad input refused with one line and exit code 2, and its status line (dist/: run `npm run build` first). */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI, HANDLERS, REDIS_URL, probeRedis } from './harness.js';
import { cleanupAfterEach, newEngine, startWorker, stopProcess, watchQueue } from './processes.js';

const OBJECT_HANDLERS = fileURLToPath(new URL('../fixtures/bullmq-handlers-object.mjs', import.meta.url));

function worker(...args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, 'worker', ...args], { encoding: 'utf8', timeout: 10_000 });
  return { status: result.status, stderr: result.stderr };
}

describe('taskchart worker: bad input', () => {
  it.each([
    [['missing.mjs', '--redis', REDIS_URL, '--queue', 'q'], 'Cannot find handlers module `missing.mjs`'],
    [[HANDLERS, '--redis', 'http://127.0.0.1', '--queue', 'q'], 'Expected `--redis` to be a redis:// or rediss:// URL'],
    [[HANDLERS, '--queue', 'q'], 'Expected `--redis <url>`'],
    [[HANDLERS, '--redis', REDIS_URL, '--queue', 'a:b'], "Expected `--queue` to be a non-empty name without ':'"],
    [[HANDLERS, '--redis', REDIS_URL, '--queue', 'q', '--json'], '`--json` is not an option of `taskchart worker`'],
    [[HANDLERS, '--redis', 'redis://127.0.0.1:1', '--queue', 'q'], 'Cannot reach Redis at redis://127.0.0.1:1'],
    [
      [HANDLERS, '--redis', REDIS_URL, '--queue', 'q', '--lock-duration', '50'],
      'Expected `--lock-duration` to be an integer from 100 and up, got `50`',
    ],
    [
      [HANDLERS, '--redis', REDIS_URL, '--queue', 'q', '--stalled-interval', 'soon'],
      'Expected `--stalled-interval` to be an integer from 100 and up, got `soon`',
    ],
    [[OBJECT_HANDLERS, '--redis', REDIS_URL, '--queue', 'q', '--pool'], 'does not export `echo` by name'],
  ])('exits 2 with one line for %j', (args, message) => {
    const { status, stderr } = worker(...args);
    expect(status).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(message);
  });
});

const unreachable = await probeRedis();
if (unreachable !== undefined && process.env.CI) throw new Error(`Redis at ${REDIS_URL} is required under CI: ${unreachable}`);

describe.skipIf(unreachable !== undefined)('taskchart worker: status', () => {
  cleanupAfterEach();

  it('prints a status line counting how its jobs ended when it stops on SIGTERM', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    await watchQueue(REDIS_URL, queueName);
    const worker = await startWorker(REDIS_URL, queueName);
    const { engine } = newEngine(REDIS_URL, queueName);
    engine.registerTask({ id: 'good', name: 'good', executor: 'remote', handler: 'echo', args: [1] });
    engine.registerTask({ id: 'bad', name: 'bad', executor: 'remote', handler: 'fail', args: ['E_BAD'] });
    engine.startTask('good');
    engine.startTask('bad');
    await engine.waitForTask('good');
    await engine.waitForTask('bad').catch(() => undefined);
    await stopProcess(worker.child, 'SIGTERM');
    expect(worker.child.exitCode).toBe(0);
    await worker.lines.waitFor(/^worker: 0\/1 running \| 1 ok \| 1 failed \| 0 cancelled \| [\d.]+\/s \| .+ up$/);
    await worker.lines.waitFor('worker: stopped');
  });
});
