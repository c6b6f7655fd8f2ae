/**
 * The numbers of the 'xstate' runtime before the runtime option existed, which the 'xstate' rows are held to
 * ("no slower than before"): from the last full `npm run bench` before it (bench/results/latest.json of
 * 2026-11-25T15:02:41Z, commit 6542957; every taskchart row of that run was an XState actor per task).
 * bench/results/latest.json is rewritten by every run, so they are kept here.
 *
 * Absolute times from another day say little on this shared machine; what is compared is the ratio to a peer
 * measured interleaved in the same run, and a ratio moves by up to about 10% from run to run here (NOISE).
 */
export const BEFORE = {
  date: '2026-11-25',
  commit: '6542957',
  throughput: { usPerTask: 110.77, pQueueUs: 33.83, ratioToPQueue: 3.27 },
  // The DAG scenario had no p-queue row then; its ratio is to p-queue with priorities of that run's throughput
  // scenario (33.83 µs), which the DAG scenario now measures alongside as a yardstick.
  dag: { usPerTask: 190.06, pQueueUs: 33.83, ratioToPQueue: 5.62 },
  memory: { pendingExternalBytes: 4960, pendingFnBytes: 5016, finishedBytes: 827 },
};

/** How far above the earlier ratio a ratio may be and still count as "no slower": run-to-run noise of a ratio here. */
export const NOISE = 0.1;
