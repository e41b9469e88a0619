import { defineConfig } from 'vitest/config';

/**
 * What every package's test run shares: tests beside the code, generous timeouts (reference
 * models and onnxruntime sessions on 2 shared cores), and forks, because onnxruntime's native
 * threads do not belong in worker threads.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
