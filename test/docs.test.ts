import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TaskEngine } from '../src/index.js';
import { readInspection, recordInspection, type InspectionLine } from '../src/inspect/index.js';
import { GENERATED_BEGIN, GENERATED_END, taskStatusDiagram, taskTransitionTable } from '../src/monitor/task-docs.js';

const ROOT = join(dirname(new URL(import.meta.url).pathname), '..');

function read(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8');
}

function generatedPart(file: string): string {
  const text = read(file);
  return text.slice(text.indexOf(GENERATED_BEGIN) + GENERATED_BEGIN.length + 1, text.indexOf(GENERATED_END));
}

/** The text of a `## heading` section, up to the next `## ` heading. */
function section(text: string, heading: string): string {
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`no section "## ${heading}"`);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end === -1 ? undefined : end);
}

/** The cells of each body row of the first markdown table in `text` (header and separator rows left out). */
function tableRows(text: string): string[][] {
  const lines = text.split('\n').filter((line) => line.startsWith('| '));
  return lines.slice(2).map((line) => line.slice(2, -2).split(' | '));
}

/** `a`, `b.c` in a cell: the backticked names, in order. */
function backticked(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1] as string);
}

/** "`path`: x, y; `other`: z" → [['path', 'x, y'], ['other', 'z']]. */
function byFile(cell: string): Array<[file: string, rest: string]> {
  return cell.split(/; (?=`)/).map((part) => {
    const match = /^`([^`]+)`: (.+)$/.exec(part);
    if (match === null) throw new Error(`expected "\`file\`: ..." in ${JSON.stringify(part)}`);
    return [match[1] as string, match[2] as string];
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Whether `source` declares each segment of `symbol` (`Class.member`, `Class.#member`, `name`): as a class,
 * function, const, interface or type, or as a member or key (`name(`, `name:`, `name =`, `get name`).
 */
function declares(source: string, symbol: string): boolean {
  return symbol.split('.').every((segment) => {
    const name = escapeRegExp(segment);
    const declaration = new RegExp(`\\b(class|function|const|let|interface|type|enum)\\s+${name}\\b`);
    const member = new RegExp(`(^|[\\s{,(])${name}\\s*[(:=<?]`, 'm');
    return declaration.test(source) || member.test(source);
  });
}

/** Whether `source` has a test (or describe) whose name is, or starts with, `name`. */
function hasTest(source: string, name: string): boolean {
  const quoted = [`'${name.replaceAll("'", "\\'")}`, `"${name}`, `\`${name}`];
  return quoted.some((text) => source.includes(text));
}

/** Quoted strings inside a `const NAME ... = new Set([ ... ])` of a source file. */
function setLiteral(source: string, name: string): string[] {
  const match = new RegExp(`const ${name}\\b[^=]*= new Set\\(\\[([\\s\\S]*?)\\]\\)`).exec(source);
  if (match === null) throw new Error(`no Set literal ${name}`);
  return [...(match[1] as string).matchAll(/'([^']+)'/g)].map((m) => m[1] as string);
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

describe("docs/architecture.md's where-it-happens table points at code and tests that exist", () => {
  const rows = tableRows(section(read('docs/architecture.md'), 'Where it happens'));

  it('has a row per promise, each naming code and a test', () => {
    expect(rows.length).toBeGreaterThanOrEqual(10);
    for (const row of rows) {
      expect(row, row[0]).toHaveLength(4);
      expect(backticked(row[1] as string).length, row[0]).toBeGreaterThan(1);
      expect(row[3], row[0]).toMatch(/`: "/);
    }
  });

  /** What column `column` of every row names that does not exist: `check(source, rest)` lists the missing names of a file. */
  function missing(column: number, check: (source: string, rest: string) => string[]): string[] {
    const found: string[] = [];
    for (const row of rows) {
      for (const [file, rest] of byFile(row[column] as string)) {
        if (!existsSync(join(ROOT, file))) found.push(`${file} (no such file)`);
        else found.push(...check(read(file), rest).map((name) => `${file}: ${name}`));
      }
    }
    return found;
  }

  it('names files that exist and symbols they declare', () => {
    expect(missing(1, (source, rest) => backticked(rest).filter((symbol) => !declares(source, symbol)))).toEqual([]);
  });

  it('names tests that exist, by their exact names', () => {
    const absent = missing(3, (source, rest) => {
      const names = [...rest.matchAll(/"([^"]+)"/g)].map((match) => match[1] as string);
      return names.length === 0 ? ['no test named'] : names.filter((name) => !hasTest(source, name)).map((name) => `"${name}"`);
    });
    expect(absent).toEqual([]);
  });

  it('recognises a renamed symbol or test as missing', () => {
    const source = read('src/actors/capacity.ts');
    expect(declares(source, 'CapacityLedger.hasSlot')).toBe(true);
    expect(declares(source, 'CapacityLedger.hasSlots')).toBe(false);
    expect(declares(source, 'CapacityLedgers')).toBe(false);
    const tests = read('test/engine/scheduling.test.ts');
    expect(hasTest(tests, 'runs ready tasks CRITICAL first, then HIGH, NORMAL, LOW, FIFO within a level')).toBe(true);
    expect(hasTest(tests, 'runs ready tasks LOW first')).toBe(false);
  });
});

describe('docs/engine.md lists every engine option, spec field and event type', () => {
  const engineDoc = read('docs/engine.md');
  const firstColumn = (heading: string): Set<string> =>
    new Set(
      tableRows(section(engineDoc, heading)).flatMap((row) => backticked(row[0] as string).map((name) => name.split('.')[0] as string)),
    );

  it('has a row for each option the engine accepts, and none it refuses', () => {
    expect([...firstColumn('Options')].sort()).toEqual(setLiteral(read('src/options.ts'), 'OPTION_KEYS').sort());
  });

  it('has a row for each task spec field, and none the spec refuses', () => {
    expect([...firstColumn('Task spec fields')].sort()).toEqual(setLiteral(read('src/task-spec.ts'), 'SPEC_KEYS').sort());
  });

  it('has a row for each event type of the TaskEvent union', () => {
    const types = [...read('src/events.ts').matchAll(/readonly type: '([^']+)'/g)].map((match) => match[1] as string);
    expect(types.length).toBeGreaterThan(5);
    expect([...firstColumn('Events')].sort()).toEqual(types.sort());
  });
});

describe('docs/task-lifecycle.md names every event the task machine takes', () => {
  it('in its hand-written tables, not only in the generated one', () => {
    const lifecycle = read('docs/task-lifecycle.md');
    const written = lifecycle.slice(0, lifecycle.indexOf(GENERATED_BEGIN));
    const events = new Set([...read('src/machines/task.machine.ts').matchAll(/type: '([A-Z_]+)'/g)].map((match) => match[1] as string));
    expect(events.size).toBeGreaterThan(10);
    expect([...events].filter((event) => !written.includes(`\`${event}\``) && !written.includes(`\`${event} {`))).toEqual([]);
  });
});

describe('relative links in the README and docs/ lead to files that exist, and to every page', () => {
  const files = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .map((name) => `docs/${name}`),
  ];

  it('the README links every page of docs/', () => {
    const readme = read('README.md');
    expect(files.filter((file) => file !== 'README.md' && !readme.includes(`](${file})`))).toEqual([]);
  });

  it.each(files)('%s', (file) => {
    const broken: string[] = [];
    for (const match of read(file).matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = (match[1] as string).split('#')[0] as string;
      if (target === '' || /^[a-z]+:/i.test(target)) continue;
      if (!existsSync(join(ROOT, dirname(file), target))) broken.push(match[1] as string);
    }
    expect(broken).toEqual([]);
  });
});

describe("the README's readInspection snippet", () => {
  /** The arguments of the snippet's `console.log(...)` for snapshot lines, as a function of `line`. */
  function snippetPrints(): (line: InspectionLine) => unknown[] {
    const match = /if \(line\.type === '@xstate\.snapshot'\) console\.log\((.+)\);\n/.exec(read('README.md'));
    if (match === null) throw new Error("the README's readInspection snippet no longer logs snapshot lines");
    return new Function('line', `return [${match[1] as string}];`) as (line: InspectionLine) => unknown[];
  }

  it("prints a label and a state for every snapshot line, the engine's own included", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskchart-docs-'));
    try {
      const file = join(dir, 'run.jsonl');
      const recorder = recordInspection(file);
      const engine = new TaskEngine({ inspect: recorder.inspect });
      engine.registerTask({ id: 'fetch', name: 'fetch', fn: () => 'body' });
      engine.registerTask({ id: 'parse', name: 'parse', dependencies: ['fetch'], fn: () => 2 });
      engine.startTasks(['fetch', 'parse']);
      await engine.waitForTask('parse');
      await engine.shutdown();
      await recorder.close();

      const prints = snippetPrints();
      const printed: unknown[][] = [];
      for await (const line of readInspection(file)) if (line.type === '@xstate.snapshot') printed.push(prints(line));
      expect(printed.filter((args) => args.some((arg) => arg === undefined))).toEqual([]);
      const labels = new Set(printed.map((args) => args[0]));
      expect([...labels].sort()).toEqual(['fetch', 'parse', 'supervisor']);
      expect(printed).toContainEqual(['parse', 'waiting']);
      expect(printed).toContainEqual(['fetch', 'completed']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
