/**
 * SIGINT / SIGTERM: the first one asks for a clean stop, a second one exits at once. A reader that
 * goes away (`taskchart run g.mjs | head`, EPIPE on stdout) asks for the same clean stop, with 141
 * (128 + SIGPIPE), rather than crashing the run: a durable run is then suspended, not interrupted.
 */
import { ExitCode } from './input-error.js';

const CODES = { SIGINT: ExitCode.SIGINT, SIGTERM: ExitCode.SIGTERM } as const;

/** Resolves with 130 (SIGINT), 143 (SIGTERM) or 141 (EPIPE) at the first one; the next signal exits the process with its code. */
export function interruption(): Promise<number> {
  return new Promise((resolve) => {
    let received = false;
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      // Nobody reads any more: later writes fail quietly (this listener), and the run stops cleanly.
      if (!received) {
        received = true;
        resolve(ExitCode.SIGPIPE);
      }
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (received) process.exit(CODES[signal]);
        received = true;
        resolve(CODES[signal]);
      });
    }
  });
}
