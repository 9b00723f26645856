/**
 * The sandbox package's one explicit step: importing '@modular-diffusers/sandbox' changes nothing,
 * so an application that loads trusted remote code (`fromPretrained(repo, { trustRemoteCode: true })`)
 * calls this once, after `installHub()` from '@modular-diffusers/hub'. It installs the sandbox
 * remote-code loader unless another loader is installed already. Calling it again does nothing.
 */
import type { RemoteCodeLoader } from '@modular-diffusers/hub';
import { installSandboxRemoteCodeLoader } from './remote/sandbox-remote-code-loader.js';

/** Installs the sandbox remote-code loader (unless one is installed); returns the active loader. */
export function installSandbox(): RemoteCodeLoader {
  return installSandboxRemoteCodeLoader();
}
