import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'fast',
          include: ['test/fast/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'slow',
          include: ['test/slow/**/*.test.ts'],
          globalSetup: ['test/slow/global-setup.ts'],
          testTimeout: 20 * 60_000,
          hookTimeout: 20 * 60_000,
          // Slow tests share one kernel workspace and a 2-core machine: run files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
