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
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
  },
};
