// `npm run demo [-- flags]`: runs the demo pipeline with the `taskchart` command. Some of its tasks fail
// on purpose (a timeout, and the branch behind it), so the command exits 1; the demo itself succeeded then.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const pipeline = fileURLToPath(new URL('../examples/pipeline.js', import.meta.url));
const { status, signal } = spawnSync(process.execPath, [cli, 'run', pipeline, ...process.argv.slice(2)], { stdio: 'inherit' });
if (status === 1) console.log('\n(taskchart exited 1 because some tasks failed, as this demo intends: see the failed tasks above)');
process.exit(status === 1 ? 0 : (status ?? (signal === 'SIGINT' ? 130 : 1)));
