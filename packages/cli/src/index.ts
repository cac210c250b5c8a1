export { runCli, EXIT } from './run-cli.js'
export { createProgram } from './create-program.js'
export { readCliEnv, CLI_ENVIRONMENT_VARIABLES, type CliEnv } from './cli-env.js'
export type { CliIo } from './lib/cli-io.js'
