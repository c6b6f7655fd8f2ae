/** Small statistics helpers for the benchmark harness. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Calls `fn` `rounds` times (after `warmup` unmeasured calls) and returns each result. */
export async function repeat(rounds, fn, warmup = 1) {
  for (let i = 0; i < warmup; i++) await fn();
  const results = [];
  for (let i = 0; i < rounds; i++) results.push(await fn());
  return results;
}
