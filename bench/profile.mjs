// Where the time of one taskchart no-op task goes: runs 100,000 no-op tasks (four priorities, concurrency 64)
// under the V8 CPU profiler in a child process, then sums self time by who owns the code:
// XState, taskchart (dist/), the garbage collector, and the rest (Node, idle).
//   node bench/profile.mjs [tasks]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';


const tasks = Number(process.argv[2] ?? 100_000);
const directory = mkdtempSync(join(tmpdir(), 'taskchart-profile-'));
const engineUrl = new URL('../dist/index.js', import.meta.url).href;
const script = `
  const { TaskEngine } = await import(${JSON.stringify(engineUrl)});
  const engine = new TaskEngine({ concurrency: 64, retention: { maxFinished: 0 } });
  for (let i = 0; i < ${tasks}; i++) engine.startTask(engine.registerTask({ name: 't', fn: () => 1, priority: i % 4 }));
  await engine.onIdle();
  await engine.shutdown();`;
execFileSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${directory}`, '--input-type=module', '-e', script], { stdio: 'inherit' });
const profile = JSON.parse(readFileSync(join(directory, readdirSync(directory)[0]), 'utf8'));
rmSync(directory, { recursive: true, force: true });

const owner = (node) => {
  const { url, functionName } = node.callFrame;
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(idle)' || functionName === '(program)' || functionName === '(root)') return 'idle / program';
  if (url.includes('/node_modules/xstate/')) return 'XState';
  if (url.includes('/node_modules/rxjs/')) return 'rxjs';
  if (url.startsWith(new URL('../dist/', import.meta.url).href) || url.includes('/dist/') && !url.includes('node_modules')) return 'taskchart';
  return 'Node and the rest';
};
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const totals = new Map();
profile.samples.forEach((id, i) => {
  const key = owner(byId.get(id));
  totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const all = [...totals.values()].reduce((a, b) => a + b, 0);
const busy = all - (totals.get('idle / program') ?? 0);
console.log(`self time of ${tasks.toLocaleString('en-US')} no-op tasks (${(busy / 1000).toFixed(0)} ms busy, ${(busy / tasks).toFixed(1)} µs per task under the profiler):`);
for (const [key, time] of [...totals].sort((a, b) => b[1] - a[1])) {
  if (key === 'idle / program') continue;
  console.log(`  ${key.padEnd(20)} ${((100 * time) / busy).toFixed(1).padStart(5)}%  ${(time / tasks).toFixed(1).padStart(6)} µs per task`);
}
