/**
 * The package as a user gets it: `npm pack`, installed into a fresh project outside this repository with
 * none of the optional peer dependencies (bullmq, ioredis, better-sqlite3), then imported by Node and
 * type-checked by tsc with `skipLibCheck: false`.
 *
 * Not part of `npm test` (vitest): installing from the registry takes seconds to minutes depending on the
 * npm cache and the network. Run it with `npm run test:package` (it builds first); CI runs it after `npm test`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const tsc = join(repo, 'node_modules/typescript/bin/tsc');

/** Runs a command; on failure the error says what ran and what it printed. */
async function sh(file, args, cwd) {
  try {
    return await run(file, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    throw new Error(`\`${file} ${args.join(' ')}\` failed in ${cwd} (exit ${error.code}):\n${error.stdout}\n${error.stderr}`, {
      cause: error,
    });
  }
}

/** Every file under `dir`, as paths relative to it. */
function walk(dir, base = dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path, base) : [relative(base, path)];
  });
}

describe('the packed tarball', { timeout: 240_000 }, () => {
  let work;
  let unpacked;
  let app;

  before(async () => {
    assert.ok(
      statSync(join(repo, 'dist/index.js'), { throwIfNoEntry: false }),
      'dist/ is missing: run `npm run build` first (npm run test:package does)',
    );
    work = mkdtempSync(join(tmpdir(), 'taskchart-pack-'));
    const { stdout } = await sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], repo);
    const tarball = join(work, JSON.parse(stdout)[0].filename);
    unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    await sh('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1'], work);

    // A user's project, outside this repository: nothing resolves from the repo's node_modules.
    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'user-app', private: true, type: 'module' }));
    // Optional peer dependencies are not installed by npm unless asked for; --omit=peer makes sure of it.
    await sh('npm', ['install', tarball, '--omit=peer', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], app);
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds the license, the readme and dist/, and no TypeScript sources', () => {
    const files = walk(unpacked);
    for (const file of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/bullmq/index.d.ts']) {
      assert.ok(files.includes(file), `${file} is not in the tarball`);
    }
    assert.deepEqual(
      files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')),
      [],
    );
    assert.match(readFileSync(join(unpacked, 'LICENSE'), 'utf8'), /^MIT License/);
  });

  it('ships source maps that carry the TypeScript sources they point at (sourcesContent)', () => {
    const maps = walk(unpacked).filter((file) => file.endsWith('.js.map'));
    assert.ok(maps.length > 50, `only ${maps.length} source maps`);
    for (const file of maps) {
      const map = JSON.parse(readFileSync(join(unpacked, file), 'utf8'));
      assert.equal(map.sourcesContent?.length, map.sources.length, `${file} has no sourcesContent`);
      map.sources.forEach((source, i) => {
        // The source the map names, resolved as in the repository (the tarball has no src/).
        const original = readFileSync(resolve(repo, dirname(file), source), 'utf8');
        assert.equal(
          map.sourcesContent[i],
          original,
          `${file}: the content of ${source} differs from the source (stale dist/? run npm run build)`,
        );
      });
    }
  });

  it('installs without bullmq, ioredis and better-sqlite3', () => {
    for (const peer of Object.keys(manifest.peerDependencies)) {
      assert.equal(statSync(join(app, 'node_modules', peer), { throwIfNoEntry: false }), undefined, `${peer} was installed`);
    }
  });

  it('imports taskchart and its other entry points without the peers, and taskchart/bullmq and taskchart/otel fail naming what to install', async () => {
    const script = `
      const { TaskChartError } = await import('taskchart');
      const out = {};
      for (const entry of ['taskchart', 'taskchart/inspect', 'taskchart/dashboard', 'taskchart/sqlite', 'taskchart/worker', 'taskchart/bullmq', 'taskchart/otel']) {
        out[entry] = await import(entry).then(
          (module) => ({ exports: Object.keys(module).length }),
          (error) => ({ name: error.name, code: error.code, message: error.message, isTaskChartError: error instanceof TaskChartError }),
        );
      }
      console.log(JSON.stringify(out));`;
    const { stdout } = await sh(process.execPath, ['--input-type=module', '-e', script], app);
    const results = JSON.parse(stdout);
    for (const entry of ['taskchart', 'taskchart/inspect', 'taskchart/dashboard', 'taskchart/sqlite', 'taskchart/worker']) {
      assert.ok(results[entry].exports > 0, `${entry}: ${JSON.stringify(results[entry])}`);
    }
    const { bullmq, ioredis } = manifest.peerDependencies;
    assert.deepEqual(results['taskchart/bullmq'], {
      name: 'MissingDependencyError',
      code: 'ERR_MISSING_DEPENDENCY',
      message: `taskchart/bullmq needs the packages bullmq and ioredis, not installed (optional peer dependencies of taskchart): run \`npm install bullmq@${bullmq} ioredis@${ioredis}\``,
      isTaskChartError: true,
    });
    assert.deepEqual(results['taskchart/otel'], {
      name: 'MissingDependencyError',
      code: 'ERR_MISSING_DEPENDENCY',
      message: `taskchart/otel needs the package @opentelemetry/api, not installed (optional peer dependencies of taskchart): run \`npm install @opentelemetry/api@${manifest.peerDependencies['@opentelemetry/api']}\``,
      isTaskChartError: true,
    });
  });

  it('runs tasks in this thread and in a pool thread without @opentelemetry/api: only taskchart/otel needs it', async () => {
    const script = `
      const { TaskEngine } = await import('taskchart');
      const engine = new TaskEngine();
      const a = engine.registerTask({ name: 'a', fn: () => 1 });
      const b = engine.registerTask({ name: 'b', executor: 'pool', fn: (ctx, n) => n * 2, args: [21], dependencies: [a] });
      engine.startTasks([a, b]);
      console.log(JSON.stringify([await engine.waitForTask(a), await engine.waitForTask(b)]));
      await engine.shutdown();`;
    writeFileSync(join(app, 'run-pool.mjs'), script);
    const { stdout } = await sh(process.execPath, ['run-pool.mjs'], app);
    assert.deepEqual(JSON.parse(stdout), [1, 42]);
  });

  it("type-checks a user's program against every entry point with skipLibCheck false, without the peers", async () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          types: ['node'],
          // @types/node from this repository: the user's own Node typings.
          typeRoots: [join(repo, 'node_modules/@types')],
        },
        files: ['app.ts'],
      }),
    );
    writeFileSync(
      join(app, 'app.ts'),
      `
import { TaskEngine, TaskPriority, TaskChartError, MissingDependencyError, ofType } from 'taskchart';
import { recordInspection, type InspectionLine } from 'taskchart/inspect';
import { serveDashboard } from 'taskchart/dashboard';
import { SqliteStore, type SqliteStoreOptions } from 'taskchart/sqlite';
import type { BullMQExecutor, BullMQExecutorOptions, CreateWorkerOptions, TaskchartWorker, RedisConnection } from 'taskchart/bullmq';

const recorder = recordInspection('run.jsonl');
const engine = new TaskEngine({ concurrency: 2, resources: { db: 1 }, inspect: recorder.inspect });
engine.events.pipe(ofType('status')).subscribe((e) => console.log(e.name, e.previous, '->', e.status));
const fetchId = engine.registerTask({ name: 'fetch', fn: async (ctx, url: string) => (await fetch(url, { signal: ctx.signal })).text(), args: ['https://example.com'], maxRetries: 2 });
const parseId = engine.registerTask({ name: 'parse', dependencies: [fetchId], priority: TaskPriority.HIGH, resources: { db: 1 }, fn: (ctx) => { ctx.progress(0.5, 'half'); return 1; } });
engine.startTask(fetchId);
engine.startTask(parseId);
const result: unknown = await engine.waitForTask(parseId).catch((error: unknown) => (error instanceof TaskChartError ? error.code : error));
const line: InspectionLine | undefined = undefined;
const storeOptions: SqliteStoreOptions = { path: 'tasks.db' };
const store: SqliteStore | undefined = undefined;
const connection: RedisConnection = { host: '10.0.0.5', port: 6379, connectTimeout: 1000 };
const remote: BullMQExecutorOptions = { connection, queue: 'renders', concurrency: 8 };
const worker: CreateWorkerOptions = { connection: 'redis://10.0.0.5:6379', queue: 'renders', handlers: { render: async (ctx, frame: number) => frame } };
const check = (executor: BullMQExecutor, running: TaskchartWorker): Promise<unknown> => Promise.all([executor.close(), running.close({ force: true }), running.worker.isRunning()]);
const missing = new MissingDependencyError('taskchart/bullmq', { bullmq: '^6.7.0' });
console.log(result, line, storeOptions, store, remote, worker, check, missing.code, serveDashboard);
await engine.shutdown();
await recorder.close();
`,
    );
    await sh(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
  });

  it('type-checks with the peers really absent: importing their types fails there', async () => {
    writeFileSync(
      join(app, 'control.ts'),
      "import type { Redis } from 'ioredis';\nimport type { Worker } from 'bullmq';\nexport type Both = [Redis, Worker];\n",
    );
    writeFileSync(join(app, 'tsconfig.control.json'), JSON.stringify({ extends: './tsconfig.json', files: ['control.ts'] }));
    const failed = await sh(process.execPath, [tsc, '-p', 'tsconfig.control.json'], app).then(
      () => undefined,
      (error) => error.message,
    );
    assert.match(failed ?? 'tsc passed', /Cannot find module 'ioredis'[\s\S]*Cannot find module 'bullmq'/);
  });
});
