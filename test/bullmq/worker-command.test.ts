/** `taskchart worker` refuses bad input with one line and exit code 2 (dist/: run `npm run build` first). */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, HANDLERS, REDIS_URL } from './harness.js';

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
  ])('exits 2 with one line for %j', (args, message) => {
    const { status, stderr } = worker(...args);
    expect(status).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(message);
  });
});
