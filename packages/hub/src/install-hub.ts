/**
 * The hub package's one explicit step: importing '@modular-diffusers/hub' changes nothing, so an
 * application that wants core's `ModularPipeline.fromPretrained`/`savePretrained` to reach the Hub
 * calls this once. It installs the pretrained hooks and the default repo resolver over the Hub cache
 * (settings from the environment). Trusted remote code needs a loader as well: `installSandbox()`
 * from '@modular-diffusers/sandbox' installs the sandbox one (kept apart so that this package needs
 * no sandbox). Calling it again does nothing.
 */
import { installHubIntegration } from './pretrained/install-hub-integration.js';

export function installHub(): void {
  installHubIntegration();
}
