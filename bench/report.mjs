/**
 * Turns scenario results into a markdown table (printed and written to docs/benchmarks.md)
 * and one bar chart per scenario (vega-lite compiled and rendered to SVG in Node: no browser, no network).
 *
 * A scenario's result: { id, title, columns: [{ key, label, digits? }], rows: [{ peer, ...values }],
 * targets: [{ name, value, met }], chart?: { field, label, rows? (the first rows only) }, notes?: [string] }.
 * A target with `met: null` was not measured (the scenario was skipped, its `skipped` saying why).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as vega from 'vega';
import * as vl from 'vega-lite';

export function table(result) {
  const head = `| ${result.columns.map((c) => c.label).join(' | ')} |`;
  const rule = `| ${result.columns.map((c, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`;
  const body = result.rows.map((row) => `| ${result.columns.map((c) => cell(row[c.key], c.digits)).join(' | ')} |`);
  return [head, rule, ...body].join('\n');
}

export function targetLines(result) {
  const line = (t) =>
    t.met === null ? `- **skipped**: ${t.name} (${t.value})` : `- ${t.met ? '**met**' : '**missed**'}: ${t.name} (measured: ${t.value})`;
  return result.targets.map(line).join('\n');
}

function cell(value, digits = 1) {
  if (typeof value === 'number')
    return Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-';
  return value ?? '-';
}

async function chart(result, directory) {
  if (!result.chart) return undefined;
  const values = result.rows
    .slice(0, result.chart.rows ?? result.rows.length)
    .filter((row) => typeof row[result.chart.field] === 'number')
    .map((row) => ({ peer: row.peer, value: row[result.chart.field] }));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 480,
    title: result.title,
    data: { values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'peer', type: 'nominal', sort: null, title: null, axis: { labelLimit: 320 } },
      x: { field: 'value', type: 'quantitative', title: result.chart.label },
      // taskchart's rows in red (the compiled runtime) and orange (xstate), its peers in blue.
      color: {
        condition: [
          { test: "indexof(datum.peer, 'taskchart (xstate)') === 0", value: '#f0ad4e' },
          { test: "indexof(datum.peer, 'taskchart') === 0", value: '#d9534f' },
        ],
        value: '#6c8ebf',
      },
    },
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  mkdirSync(directory, { recursive: true });
  const file = `bench-${result.id}.svg`;
  writeFileSync(new URL(file, directory), svg);
  return `images/${file}`;
}

/** Writes docs/benchmarks.md: the intro, then per scenario its table, targets, chart and notes. */
export async function writeReport(report, intro, docsUrl, analysis = '') {
  const images = new URL('images/', docsUrl);
  const parts = [
    intro.trim(),
    '',
    `Run: ${report.date}, Node ${report.node}, ${report.cpus} cores, ${report.memoryGiB} GiB. Every number is the median of several rounds, all peers interleaved in the same process.`,
    '',
  ];
  for (const result of report.results) {
    // An anchor named after the scenario, for links such as benchmarks.md#remote (the heading's own anchor changes with its sizes).
    parts.push(`<a id="${result.id}"></a>`, '', `## ${result.title}`, '');
    if (result.date && result.date !== report.date) parts.push(`(Run separately, with \`--only\`: ${result.date}.)`, '');
    parts.push(table(result), '', targetLines(result), '');
    const image = await chart(result, images);
    if (image) parts.push(`![${result.title}](${image})`, '');
    for (const note of result.notes ?? []) parts.push(`${note}`, '');
  }
  if (analysis.trim()) parts.push(analysis.trim(), '');
  writeFileSync(new URL('benchmarks.md', docsUrl), `${parts.join('\n').trim()}\n`);
}
