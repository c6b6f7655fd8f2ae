/**
 * The executor's own look at the jobs of its attempts, independent of the
 * QueueEvents stream: BullMQ reports a dead worker (`stalled`) only while some
 * other worker of the queue is alive to run its stalled check, and a Redis that
 * restarted without its data loses jobs with no event at all. One Lua call
 * reads, atomically, where each job stands; the executor decides what follows
 * (see `BullMQExecutor#check`).
 *
 * A worker holds `<job key>:lock` from the moment it takes the job (set in the
 * same script that moves it to active and writes `processedOn`) and renews it
 * every lockDuration / 2 until the job is finished (the lock is deleted in the
 * same script that writes `finishedOn`). So a job that was taken, is not
 * finished, and has no lock belongs to a worker that died or hung.
 */
import type { Redis } from 'ioredis';

/** Where one job stands. */
export type JobLiveness =
  /** A worker holds it. */
  | 'locked'
  /** Taken by a worker that no longer renews its lock (active without a lock, or moved back by BullMQ's stalled check). */
  | 'unlocked'
  /** Not taken yet. */
  | 'queued'
  /** Completed or failed; its QueueEvents event settles the attempt. */
  | 'finished'
  /** Not in Redis (removed, or lost with Redis's data). */
  | 'gone';

const SCRIPT = `
local out = {}
for i = 1, #KEYS do
  local job = KEYS[i]
  if redis.call('EXISTS', job .. ':lock') == 1 then out[i] = 'locked'
  elseif redis.call('EXISTS', job) == 0 then out[i] = 'gone'
  elseif redis.call('HEXISTS', job, 'finishedOn') == 1 then out[i] = 'finished'
  elseif redis.call('HEXISTS', job, 'processedOn') == 1 then out[i] = 'unlocked'
  else out[i] = 'queued' end
end
return out`;

/** Where each job stands, by job key (`queue.toKey(jobId)`), in the order given. */
export async function readLiveness(client: Redis, jobKeys: readonly string[]): Promise<JobLiveness[]> {
  if (jobKeys.length === 0) return [];
  return (await client.eval(SCRIPT, jobKeys.length, ...jobKeys)) as JobLiveness[];
}
