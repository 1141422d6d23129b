import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Builds spawn tokenizer worker threads; run test files one at a time on a 2-core machine.
    fileParallelism: false,
  },
});
