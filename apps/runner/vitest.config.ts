import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared';

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      // The CLI caches compiled graphs under the user's cache folder: not from the test suite.
      env: { BLAMEBOARD_CACHE_DIR: 'off' },
    },
  }),
);
