// `npm run demo [-- flags]`: runs the demo pipeline with the built `taskchart` command and a durable store.
//
// The store (tasks.db) and the files the tasks pass between them live in one work directory,
// TASKCHART_DEMO_DIR or taskchart-demo in the temporary directory. Ctrl-C (or SIGTERM) stops the run
// without cancelling anything and keeps the directory: `npm run demo` again finishes only what was left.
// A run that ends on its own (exit 0, or 1: some tasks fail on purpose, a timeout and the branch behind
// it) deletes the directory, so that the next `npm run demo` starts afresh; a crash or a kill keeps it.
//
// It runs dist/ as built (`npm install` builds it once, through `prepare`): it does not build. One demo
// runs per work directory at a time (demo.pid in it); a second one says so and exits 2 without running.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const pipeline = join(root, 'examples/pipeline.js');
const workdir = process.env.TASKCHART_DEMO_DIR ?? join(tmpdir(), 'taskchart-demo');
const store = join(workdir, 'tasks.db');
const lock = join(workdir, 'demo.pid');

if (!existsSync(cli)) {
  console.error(`demo: the built command ${cli} is missing: run \`npm run build\` (npm install runs it too), then \`npm run demo\` again`);
  process.exit(2);
}
if (newestSourceChange(join(root, 'src')) > statSync(cli).mtimeMs) {
  console.error('demo: note: src/ changed since dist/ was built; this runs the build as it is (`npm run build` to run your changes)');
}

const holder = takeLock();
if (holder !== undefined) {
  console.error(
    `demo: another demo (process ${holder}) is running in ${workdir}, and its task store is held by one run at a time.\n` +
      `      Wait for it to end, or stop it (Ctrl-C in its terminal: the next \`npm run demo\` finishes what it left),\n` +
      `      or run this one in another directory: TASKCHART_DEMO_DIR=${workdir}-2 npm run demo`,
  );
  process.exit(2);
}

const child = spawn(process.execPath, [cli, 'run', pipeline, '--store', store, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, TASKCHART_DEMO_DIR: workdir },
});
// Ctrl-C reaches the command itself (the terminal signals its whole foreground process group), and
// a second SIGINT would make it exit at once, unsuspended: this process only waits for it.
process.on('SIGINT', () => {});
// SIGTERM is usually sent to this process alone: pass it on.
process.on('SIGTERM', () => child.kill('SIGTERM'));

const { code, signal } = await new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
const status = code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 128);
rmSync(lock, { force: true });
// Only a run that ended on its own, with its outcome, empties the store; a crash or a kill keeps it to resume.
if (signal === null && (status === 0 || status === 1)) {
  rmSync(workdir, { recursive: true, force: true });
  if (status === 1) console.log('\n(taskchart exited 1 because some tasks failed, as this demo intends: see the failed tasks above)');
} else if (status === 2) {
  console.error('\n(taskchart refused to run, for the reason on the line above: nothing ran)');
} else {
  console.log(`\n(stopped: the unfinished tasks are kept in ${store}; run \`npm run demo\` again to finish what was left)`);
}
process.exit(status === 1 ? 0 : status);

/** Writes this process's id to demo.pid; returns the id of a live process that holds it instead. */
function takeLock() {
  mkdirSync(workdir, { recursive: true });
  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return undefined;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const pid = Number(readFileSync(lock, 'utf8'));
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) return pid;
    rmSync(lock, { force: true }); // left by a demo that was killed
  }
  return readFileSync(lock, 'utf8').trim();
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** The latest modification time (ms) of a file under `dir`; 0 when there is none (an installed package has no src/). */
function newestSourceChange(dir) {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}
