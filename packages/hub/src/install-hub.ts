/**
 * The hub package's one explicit step: importing '@modular-diffusers/hub' changes nothing, so an
 * application that wants core's `ModularPipeline.fromPretrained`/`savePretrained` to reach the Hub
 * calls this once. It installs the pretrained hooks, the default repo resolver over the Hub cache
 * (settings from the environment) and, unless another is installed, the sandbox loader that runs
 * trusted remote code. Calling it again does nothing.
 */
import { installHubIntegration } from './pretrained/install-hub-integration.js';
import { installSandboxRemoteCodeLoader } from './remote/sandbox-remote-code-loader.js';

export function installHub(): void {
  installHubIntegration();
  installSandboxRemoteCodeLoader();
}
