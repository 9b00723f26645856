import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ViteUserConfig } from 'vitest/config';

// Workspace packages export their TypeScript sources under the "source"
// condition, so tests run against src/ without a build step.
const conditions = ['source', 'node', 'import', 'module', 'default'];

export const sharedTestConfig: ViteUserConfig = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // A test that reads the process environment (or a child process it starts) never writes to the
    // real ~/.cache/huggingface: this project's files live in $HF_HOME/modular-diffusers.
    env: { HF_HOME: mkdtempSync(join(tmpdir(), 'modular-diffusers-test-hf-home-')) },
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
  },
};
