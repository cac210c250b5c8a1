import { fileURLToPath } from 'node:url'

/** The CLI launcher, as `mqtt-oidc` runs it (on the sources under test-support's SOURCE_EXEC_ARGV). */
export const BIN = fileURLToPath(new URL('../../bin/mqtt-oidc.js', import.meta.url))
/** The CLI entry point. */
export const CLI_MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))
