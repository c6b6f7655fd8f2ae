/**
 * `taskchart/worker`: what a pool task module may import. Light on purpose:
 * it does not load the engine.
 */
import type { TransferListItem } from 'node:worker_threads';
import workerpool from 'workerpool';

/**
 * Marks a pool task's result so the listed ArrayBuffers move to the main
 * thread instead of being copied (they are unusable in the worker afterwards).
 *
 * @example
 * export function render(ctx, width, height) {
 *   const pixels = new Uint8Array(width * height * 4);
 *   // ... fill pixels ...
 *   return transfer(pixels, [pixels.buffer]);
 * }
 */
export function transfer<T>(value: T, transferList: readonly TransferListItem[]): T {
  return new workerpool.Transfer(value as object, transferList as TransferListItem[]) as unknown as T;
}

export { NonRetryableError, RateLimitedError } from '../errors.js';
