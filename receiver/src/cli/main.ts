// receiver/src/cli/main.ts
// The execscope command: parses the command line, runs a subcommand, maps errors to exit codes.

import { Command, CommanderError } from 'commander';
import { ConfigError, ExecscopeError, UsageError, getErrorMessage } from '../errors.js';
import { registerAgent } from './agent.js';
import { registerGetEvents } from './getevents.js';

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('execscope')
    .description('process-execution monitor: eBPF exec/exit events as OpenTelemetry logs and a Tetragon-compatible stream')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError(false);
  registerAgent(program);
  registerGetEvents(program);
  try {
    await program.parseAsync(argv as string[]);
    // getevents reports its outcome through process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error: unknown) {
    if (error instanceof CommanderError) {
      // --help and --version end up here with exit code 0.
      return error.exitCode === 0 ? 0 : 2;
    }
    const code = error instanceof ExecscopeError ? error.code : 'ERR_UNEXPECTED';
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: getErrorMessage(error), 'error.code': code, ...errorDetails(error) })}\n`);
    return error instanceof ConfigError || error instanceof UsageError ? 2 : 1;
  }
}

function errorDetails(error: unknown): Record<string, unknown> {
  if (typeof error !== 'object' || error === null) return {};
  const out: Record<string, unknown> = {};
  for (const key of ['errno', 'stage', 'verifierLog']) {
    if (key in error) out[`error.${key}`] = (error as Record<string, unknown>)[key];
  }
  return out;
}
