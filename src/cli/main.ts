#!/usr/bin/env node
/** The `taskchart` command: parse the command line, run, exit with the run's code. */
import { parseCommandLine, USAGE } from './args.js';
import { CliInputError, ExitCode } from './input-error.js';
import { runCommand } from './run-command.js';
import { interruption } from './signals.js';

async function main(argv: readonly string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    const command = parseCommandLine(argv);
    if (command.command === 'help') {
      if (command.requested) process.stdout.write(`${USAGE}\n`);
      else process.stderr.write(`taskchart: expected a command, \`run\` or \`worker\`\n\n${USAGE}\n`);
      return command.requested ? ExitCode.OK : ExitCode.BAD_INPUT;
    }
    if (command.command === 'worker') {
      // Loaded only here: bullmq and ioredis are optional peer dependencies that `run` does not need.
      const { runWorkerCommand } = await import('./worker-command.js').catch((error: unknown) => {
        if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
        throw new CliInputError(
          `taskchart worker needs the packages bullmq and ioredis: npm install bullmq@^6.7.0 ioredis@^6 (${(error as Error).message.split('\n')[0]})`,
        );
      });
      return await runWorkerCommand(command, { stdout: process.stdout, stderr: process.stderr });
    }
    return await runCommand(command, { stdout: process.stdout, interrupted: interruption() });
  } catch (error) {
    const bad = error instanceof CliInputError;
    process.stderr.write(`taskchart: ${bad ? error.message : `internal error: ${String(error)}`}\n`);
    if (verbose || !bad) process.stderr.write(`${stackOf(error)}\n`);
    return bad ? ExitCode.BAD_INPUT : ExitCode.INTERNAL_ERROR;
  }
}

function stackOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause === undefined ? String(error.stack) : `${error.stack}\nCaused by: ${stackOf(error.cause)}`;
}

const code = await main(process.argv.slice(2));
process.stdout.write('', () => process.exit(code));
