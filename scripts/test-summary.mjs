#!/usr/bin/env node
// Adds up the vitest JSON reports that every workspace's test task writes, and prints
// one closing line CI can read ("Tests: N passed, N failed, N skipped").
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const workspaceDirs = ['packages', 'plugins', 'templates']
  .flatMap((group) => (existsSync(join(root, group)) ? readdirSync(join(root, group)).map((d) => join(root, group, d)) : []))
  .concat([join(root, 'tests')]);

let passed = 0;
let failed = 0;
let skipped = 0;
let reports = 0;
for (const dir of workspaceDirs) {
  const file = join(dir, '.vitest-report.json');
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  reports += 1;
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
if (reports === 0) {
  console.error('No test reports found: did the test task run?');
  process.exit(1);
}
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
