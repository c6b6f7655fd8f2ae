/** Bad input to the command line: a usage error, a missing or unusable graph module. Exit code 2. */
export class CliInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliInputError';
  }
}

/** The exit codes of `taskchart`. */
export const ExitCode = {
  /** Every task COMPLETED. */
  OK: 0,
  /** Some task FAILED, was CANCELLED or never finished. */
  TASKS_FAILED: 1,
  /** Bad input: usage, missing file, unusable module, invalid graph (e.g. a cycle). */
  BAD_INPUT: 2,
  /**
   * The durable store failed during the run (disk full, file made read-only): the engine stopped
   * every task where it stood; the same command resumes once the cause is fixed.
   */
  STORE_FAILED: 3,
  /** A bug in taskchart or the graph module's code outside any task (an uncaught error): the run crashed. */
  INTERNAL_ERROR: 70,
  /** Interrupted by SIGINT (Ctrl-C); with a store, suspended for the next run. */
  SIGINT: 130,
  /** Interrupted by SIGTERM. */
  SIGTERM: 143,
  /** Stopped because stdout's reader went away (EPIPE), like SIGPIPE. */
  SIGPIPE: 141,
} as const;
