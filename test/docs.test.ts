import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_BEGIN, GENERATED_END, taskStatusDiagram, taskTransitionTable } from '../src/monitor/task-docs.js';

function generatedPart(file: string): string {
  const text = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
  return text.slice(text.indexOf(GENERATED_BEGIN) + GENERATED_BEGIN.length + 1, text.indexOf(GENERATED_END));
}

describe('generated docs match the task machine', () => {
  it('README status diagram is current (run `npm run docs` if not)', () => {
    expect(generatedPart('README.md')).toBe(taskStatusDiagram());
  });

  it('docs/task-lifecycle.md transition table is current (run `npm run docs` if not)', () => {
    expect(generatedPart('docs/task-lifecycle.md')).toBe(taskTransitionTable());
  });

  it('lists every transition of the machine, delayed ones included', () => {
    const table = taskTransitionTable();
    expect(table).toContain('| running.timed | `after attemptTimeout` | canRetryAfterTimeout | retrying |');
    expect(table).toContain('| retrying | `after retryBackoff` |  | queued |');
  });
});
