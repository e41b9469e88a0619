import { defineConfig } from 'vitest/config';

/** Browser checks (`pnpm test:browser`): they need Debian's chromium, which `.ci/run` installs. */
export default defineConfig({
  test: {
    include: ['browser/**/*.browser.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
