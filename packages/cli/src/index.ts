export { createProgram, runCli, type CliIo } from './program.js';
export { serveHub, type HubServeOptions } from './commands/hub.js';
