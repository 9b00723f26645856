import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerBuildCommand } from './commands/build.js';
import { registerCreateCommand } from './commands/create.js';
import { registerHubCommands } from './commands/hub.js';
import { registerInspectCommand } from './commands/inspect.js';
import { registerPublishCommand } from './commands/publish.js';
import { registerRunCommand } from './commands/run.js';
import { registerTrustCommands } from './commands/trust.js';
import { CliError } from './errors.js';
import { waitForLocalHub } from './wait-for-local-hub.js';

/**
 * Where a command reads and writes. Everything has a process default; tests
 * inject their own streams, environment and interrupt source.
 */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Environment for Hub settings (HF_ENDPOINT, HF_TOKEN, ...); default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Folder relative paths start from; default `process.cwd()`. */
  cwd?: string;
  /** Draw progress bars (default: when stderr is a terminal); otherwise progress is printed as lines. */
  progressBars?: boolean;
  /** Calls `handler` on Ctrl-C until the returned function is called; default: SIGINT of this process. */
  onInterrupt?: (handler: () => void) => () => void;
}

/** This package's version, from its package.json (one folder above src/ and dist/ alike). */
export function cliVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

/** The commands that talk to the Hub (HF_ENDPOINT); they wait for a local one that is still starting. */
const HUB_CLIENT_COMMANDS = new Set(['build', 'publish', 'inspect', 'run']);

const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

export function createProgram(io: CliIo): Command {
  const program = new Command('modular')
    .description('Modular Diffusers for Node.js: compose, share and run diffusion pipelines.')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .version(cliVersion(), '-V, --version', 'print the version of the modular command')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  registerCreateCommand(program, io);
  registerBuildCommand(program, io);
  registerPublishCommand(program, io);
  registerInspectCommand(program, io);
  registerRunCommand(program, io);
  registerHubCommands(program, io);
  registerTrustCommands(program, io);
  program.hook('preAction', async (_program, action) => {
    if (HUB_CLIENT_COMMANDS.has(action.name()) && action.parent === program) await waitForLocalHub(io.env ?? process.env, io.err);
  });
  return program;
}

/** Exit codes: 0 success, 1 a failure while running, 2 bad usage, 130 cancelled with Ctrl-C. */
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
    return error instanceof CliError ? error.exitCode : 1;
  }
}
