import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    // Tests start real registries and run the built CLI: give them time, and keep the
    // 2-core CI machine from running more registries than it can serve.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    coverage: { include: ['src/**/*.ts'] },
  },
});
