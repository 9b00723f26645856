import { Command, CommanderError } from 'commander';
import { registerHubCommands } from './commands/hub.js';

/** Builds the `modular` command tree. Output streams are injectable so tests can read them. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

export function createProgram(io: CliIo): Command {
  const program = new Command('modular')
    .description('Modular Diffusers for Node.js: compose, share and run diffusion pipelines.')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  registerHubCommands(program, io);
  return program;
}

/** Exit codes: 0 success, 1 a failure while running, 2 bad usage. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    io.err(`modular: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
