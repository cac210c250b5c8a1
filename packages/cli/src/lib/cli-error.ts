/** A usage or validation problem found by the CLI itself (exit code 1). */
export class CliError extends Error {
  readonly code = 'ERR_CLI_USAGE'
}
