// `npm run demo [-- flags]`: runs the demo pipeline with the `taskchart` command and a durable store.
//
// The store (tasks.db) and the files the tasks pass between them live in one work directory,
// TASKCHART_DEMO_DIR or taskchart-demo in the temporary directory. Ctrl-C (or SIGTERM) stops the run
// without cancelling anything and keeps the directory: `npm run demo` again finishes only what was left.
// A run that ends on its own (exit 0, or 1: some tasks fail on purpose, a timeout and the branch behind
// it) deletes the directory, so that the next `npm run demo` starts afresh; a crash or a kill keeps it.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const pipeline = fileURLToPath(new URL('../examples/pipeline.js', import.meta.url));
const workdir = process.env.TASKCHART_DEMO_DIR ?? join(tmpdir(), 'taskchart-demo');
const store = join(workdir, 'tasks.db');

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
// Only a run that ended on its own, with its outcome, empties the store; a crash or a kill keeps it to resume.
if (signal === null && (status === 0 || status === 1)) {
  rmSync(workdir, { recursive: true, force: true });
  if (status === 1) console.log('\n(taskchart exited 1 because some tasks failed, as this demo intends: see the failed tasks above)');
} else {
  console.log(`\n(stopped: the unfinished tasks are kept in ${store}; run \`npm run demo\` again to finish what was left)`);
}
process.exit(status === 1 ? 0 : status);
