// The CPU-bound step of the demo pipeline, run in a worker thread by the pool executor.
// Each export is called as fn(ctx, ...args).
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Summary statistics of one city's readings, with a bootstrap confidence interval for the mean (CPU-heavy
 * on purpose). Returned, and left next to the readings as `<city>.stats.json` for the region's report.
 */
export async function extract(ctx, city, parsedPath) {
  const readings = JSON.parse(await readFile(parsedPath, 'utf8'));
  ctx.progress(0, `${readings.length} readings`);
  const values = readings.map((r) => r.celsius).sort((a, b) => a - b);
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  const resamples = 4000;
  const means = new Float64Array(resamples);
  let seed = city.length * 7919;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < resamples; i++) {
    let sum = 0;
    for (let j = 0; j < values.length; j++) sum += values[Math.floor(random() * values.length)];
    means[i] = sum / values.length;
    if (i % 1000 === 999) ctx.progress((i + 1) / resamples, `bootstrap ${i + 1}/${resamples}`);
  }
  means.sort();
  const stats = {
    city,
    n: values.length,
    min: values[0],
    max: values[values.length - 1],
    mean: Number(mean.toFixed(2)),
    ci95: [Number(means[Math.floor(resamples * 0.025)].toFixed(2)), Number(means[Math.floor(resamples * 0.975)].toFixed(2))],
  };
  await writeFile(join(dirname(parsedPath), `${city}.stats.json`), JSON.stringify(stats));
  return stats;
}
