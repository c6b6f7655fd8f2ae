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

/**
 * µs per task of each peer (`{ name, time(tasks) => ms }`), over `rounds` rounds after a warm-up of every
 * peer on a tenth of the size. In every round each peer runs once, the order rotating, so that machine
 * noise hits them alike. Returns the samples by peer name.
 */
export async function interleavedRounds(peers, tasks, rounds) {
  for (const peer of peers) await peer.time(Math.max(500, tasks / 10)); // JIT, engine code paths; unmeasured
  const samples = Object.fromEntries(peers.map((peer) => [peer.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < peers.length; k++) {
      const peer = peers[(round + k) % peers.length];
      samples[peer.name].push(((await peer.time(tasks)) * 1000) / tasks);
    }
  }
  return samples;
}

/** Calls `fn` `rounds` times (after `warmup` unmeasured calls) and returns each result. */
export async function repeat(rounds, fn, warmup = 1) {
  for (let i = 0; i < warmup; i++) await fn();
  const results = [];
  for (let i = 0; i < rounds; i++) results.push(await fn());
  return results;
}
