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
    hookTimeout: 60_000,
  },
});
