/**
 * OpenTelemetry's usual Node setup, `node --import ./tracing.mjs app.js`, reaches pool threads by itself: Node runs
 * `--import` modules in every worker thread, and pool threads start with the process's options, so even a
 * self-contained pool `fn` (no module to import a setup from) sees its attempt span as the active span.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

describe('a tracing setup given to node with --import', () => {
  it('sets up every pool thread too: the attempt span is active in a self-contained pool fn', () => {
    const result = spawnSync(process.execPath, ['--import', fixture('otel-setup.mjs'), fixture('otel-import-app.mjs')], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(result.stderr).toBe('');
    const { active, attempt } = JSON.parse(result.stdout) as { active: string; attempt: string };
    expect(attempt).toMatch(/^[0-9a-f]{16}$/);
    expect(active).toBe(attempt);
  });

  it('leaves a thread without the setup untraced (no context manager there), and the task runs', () => {
    const result = spawnSync(process.execPath, [fixture('otel-import-app.mjs')], { encoding: 'utf8', timeout: 15_000 });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({ active: 'none', attempt: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });
});
