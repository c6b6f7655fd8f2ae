/** SIGINT / SIGTERM: the first one asks for a clean stop, a second one exits at once. */
import { ExitCode } from './input-error.js';

const CODES = { SIGINT: ExitCode.SIGINT, SIGTERM: ExitCode.SIGTERM } as const;

/** Resolves with 130 (SIGINT) or 143 (SIGTERM) at the first signal; the next signal exits the process with that code. */
export function interruption(): Promise<number> {
  return new Promise((resolve) => {
    let received = false;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (received) process.exit(CODES[signal]);
        received = true;
        resolve(CODES[signal]);
      });
    }
  });
}
