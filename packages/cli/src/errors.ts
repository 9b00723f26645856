import { ModularDiffusersError } from '@modular-diffusers/core';

/**
 * What a command throws, mapped to exit codes by `runCli`: a usage error
 * (bad arguments, a folder that is not a plugin) exits 2, a failure while
 * working exits 1, a run cancelled with Ctrl-C exits 130 (128 + SIGINT).
 */
export class CliError extends ModularDiffusersError {
  static override readonly code: string = 'CLI';
  override name = 'CliError';
  readonly exitCode: number = 1;
}

/** The command cannot start with what it was given; the message says what to give instead. */
export class CliUsageError extends CliError {
  static override readonly code: string = 'CLI_USAGE';
  override name = 'CliUsageError';
  override readonly exitCode = 2;
}

/** The user cancelled (Ctrl-C); nothing half-written was left behind. */
export class CliInterruptedError extends CliError {
  static override readonly code: string = 'CLI_INTERRUPTED';
  override name = 'CliInterruptedError';
  override readonly exitCode = 130;
}
