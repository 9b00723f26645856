// Remote-code sandbox: plugin bundles run in a locked-down vm context in a process of their own.
export * from './sandbox/index.js';

// Trusted remote code runs in the sandbox: RemoteModularPipeline, remote blocks, component allow-lists.
export * from './remote/index.js';

// installSandbox() makes trusted remote code (fromPretrained with trustRemoteCode) run in the sandbox; importing does nothing.
export { installSandbox } from './install-sandbox.js';

export * from './error-codes.js';
