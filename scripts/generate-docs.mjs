// Writes the generated parts of README.md and docs/task-lifecycle.md from the
// built task machine (run by `npm run docs`, after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { replaceGenerated, taskStatusDiagram, taskTransitionTable } from '../dist/monitor/task-docs.js';

const targets = [
  ['README.md', taskStatusDiagram()],
  ['docs/task-lifecycle.md', taskTransitionTable()],
];
for (const [file, generated] of targets) {
  const url = new URL(`../${file}`, import.meta.url);
  const before = readFileSync(url, 'utf8');
  const after = replaceGenerated(before, generated);
  if (after !== before) writeFileSync(url, after);
  console.log(`${after === before ? 'unchanged' : 'updated'}: ${file}`);
}
