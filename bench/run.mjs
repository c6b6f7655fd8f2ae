// The benchmark harness: `npm run bench` (full) or `npm run bench -- --quick` (tiny sizes, a smoke run for CI).
// Runs each scenario with its peers in the same process, prints a markdown table, writes bench/results/latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

const quick = process.argv.includes('--quick');
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const scenarios = ['pool'].filter((name) => !only || only.split(',').includes(name));

const results = [];
for (const name of scenarios) {
  const scenario = await import(`./scenarios/${name}.mjs`);
  const result = await scenario.run({ quick });
  results.push(result);
  console.log(`\n### ${result.title}\n`);
  console.log('| peer | total ms | µs per task | speedup vs serial |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const row of result.rows) console.log(`| ${row.peer} | ${row.ms.toFixed(1)} | ${row.perTaskUs.toFixed(1)} | ${row.speedup.toFixed(2)} |`);
  for (const target of result.targets) console.log(`- ${target.met ? 'met' : 'MISSED'}: ${target.name} (${target.value.toFixed(3)})`);
}

const report = { date: new Date().toISOString(), quick, node: process.version, cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), results };
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL(`./results/${quick ? 'quick' : 'latest'}.json`, import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
