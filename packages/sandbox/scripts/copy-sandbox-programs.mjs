// The sandbox's programs (src/sandbox/prelude/, src/sandbox/process-program/) are read as text
// at run time from next to the module that loads them (see src/sandbox/assemble-sandbox-script.ts),
// so the build puts them next to dist's copy of that module, byte for byte: tsc does not emit them.
import { cpSync, readdirSync } from 'node:fs';

for (const folder of ['prelude', 'process-program']) {
  const from = new URL(`../src/sandbox/${folder}/`, import.meta.url);
  const to = new URL(`../dist/sandbox/${folder}/`, import.meta.url);
  for (const name of readdirSync(from)) {
    if (name.endsWith('.js')) cpSync(new URL(name, from), new URL(name, to));
  }
}
