import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const manifest = createRequire(import.meta.url).resolve('@mqtt-oidc/cli/package.json')

/** The `mqtt-oidc` launcher of the installed @mqtt-oidc/cli, run on the sources under test-support's SOURCE_EXEC_ARGV. */
export const BIN = join(dirname(manifest), 'bin', 'mqtt-oidc.js')
