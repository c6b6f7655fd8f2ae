// The benchmark harness: `npm run bench` (full) or `npm run bench -- --quick` (tiny sizes, a smoke run for CI).
// Runs each scenario with its peers in the same process, prints markdown tables, writes bench/results/latest.json
// and, for a full run of every scenario, regenerates docs/benchmarks.md with its charts.
// `--only=a,b` runs some scenarios; `--report` only regenerates docs/benchmarks.md from bench/results/latest.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { table, targetLines, writeReport } from './report.mjs';

const SCENARIOS = ['throughput', 'scale', 'dag', 'limits', 'cache', 'otel', 'memory', 'latency', 'pool', 'durable', 'remote'];
const quick = process.argv.includes('--quick');
const only = process.argv
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
for (const name of only ?? []) {
  if (!SCENARIOS.includes(name)) throw new Error(`Unknown scenario \`${name}\`; expected some of ${SCENARIOS.join(', ')}`);
}
const scenarios = SCENARIOS.filter((name) => !only || only.includes(name));

if (process.argv.includes('--report')) {
  const report = JSON.parse(readFileSync(new URL('./results/latest.json', import.meta.url), 'utf8'));
  await writeDocs(report);
  process.exit(0);
}

async function writeDocs(report) {
  const intro = readFileSync(new URL('./intro.md', import.meta.url), 'utf8');
  const analysis = readFileSync(new URL('./analysis.md', import.meta.url), 'utf8');
  await writeReport(report, intro, new URL('../docs/', import.meta.url), analysis);
  console.log('\nwrote docs/benchmarks.md');
}

const results = [];
for (const name of scenarios) {
  const scenario = await import(`./scenarios/${name}.mjs`);
  const started = performance.now();
  const result = await scenario.run({ quick });
  results.push(result);
  console.log(`\n### ${result.title}  (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  console.log(table(result));
  console.log(targetLines(result));
}

const report = {
  date: new Date().toISOString(),
  quick,
  node: process.version,
  cpus: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  results,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(`./results/${quick ? 'quick' : 'latest'}.json`, import.meta.url);
// `--only` replaces its scenarios' results in the last full report (keeping the others), and says so in `partial`.
const merged = only && !quick ? mergeInto(file, report) : report;
writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
if (!quick) await writeDocs(merged);

function mergeInto(previousFile, partial) {
  let previous;
  try {
    previous = JSON.parse(readFileSync(previousFile, 'utf8'));
  } catch {
    return partial;
  }
  const byId = new Map(previous.results.map((result) => [result.id, result]));
  for (const result of partial.results) byId.set(result.id, { ...result, date: partial.date });
  const ordered = SCENARIOS.map((name) => [...byId.values()].find((result) => result.id === name || result.id?.startsWith?.(name))).filter(
    Boolean,
  );
  return { ...previous, results: ordered.length === byId.size ? ordered : [...byId.values()] };
}
