import { defineConfig } from 'vitest/config';

// Tests run on sources: the `source` export condition points every @unseen/* package at its
// src/index.ts. Setting conditions replaces vite's defaults, so they are listed again here.
const conditions = ['source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    // Many tests wait on processes, sockets and workers rather than the CPU: three test files at a
    // time finish the suite in about two thirds of the time on a 2-core machine (vitest's
    // default there is one).
    maxWorkers: 3,
    hookTimeout: 60_000,
  },
});
