import { readCliEnv } from './cli-env.js'
import { runCli } from './run-cli.js'

// Entry point of `mqtt-oidc` (bin/mqtt-oidc.js, `pnpm mqtt-oidc`).
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: readCliEnv(),
})
process.exitCode = code
// On failure, a request still in flight (the losing side of a race) must not keep the process alive.
// stdout/stderr are synchronous for files and pipes on POSIX, so nothing printed is lost.
if (code !== 0) process.exit(code)
