import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'
import LongFirstSequencer from './scripts/long-first-sequencer.js'

// Workspace packages resolve to their src/ through the "@mqtt-oidc/source"
// export condition (see tsconfig.json), so tests never run a stale dist/.
const conditions = ['@mqtt-oidc/source', ...defaultServerConditions]

export default defineConfig({
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time even on two cores (vitest's default is cores - 1): most files wait on
    // servers, browsers and containers rather than compute, and one at a time took the suite to ~14 min.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default', './scripts/summary-reporter.ts'],
    // the files that take minutes start first, one per worker, so that neither is the suite's tail
    sequence: { sequencer: LongFirstSequencer },
  },
})
