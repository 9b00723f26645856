#!/usr/bin/env node
// The `modular` command. Runs the compiled CLI: in a checkout, `npm run build` makes it.
let main;
try {
  ({ main } = await import('../dist/main.js'));
} catch (error) {
  // Only a missing build output of this repository gets the hint; any other failure is shown as it is.
  const missing = /Cannot find module '([^']+)'/.exec(String(error?.message))?.[1] ?? '';
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !/[\\/]dist[\\/]/.test(missing)) throw error;
  process.stderr.write(
    'modular: the command is not built yet (packages/cli/dist is missing or incomplete).\n' +
      'Run `npm run build` in the repository first (`npm run demo` and `npm test` run from the sources, the modular command from the build).\n',
  );
  process.exit(1);
}
process.exitCode = await main(process.argv);
