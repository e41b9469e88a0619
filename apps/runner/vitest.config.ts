import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The CLI caches compiled graphs under the user's cache folder: not from the test suite.
    env: { BLAMEBOARD_CACHE_DIR: 'off' },
  },
});
