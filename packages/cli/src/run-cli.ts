import { CommanderError } from 'commander'
import { createProgram } from './create-program.js'
import type { CliIo } from './lib/cli-io.js'

/** Exit codes scripts can rely on. */
export const EXIT = Object.freeze({ ok: 0, failure: 1, loginRequired: 2 })

/**
 * Runs the CLI with `argv` (arguments after the program name) and returns
 * the exit code. Every failure is printed as one line, `mqtt-oidc: <message>`,
 * on stderr: 2 when a login is required, 1 otherwise.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = createProgram(io)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return EXIT.ok
  } catch (err) {
    // Commander has already printed its help or its one-line error (parse errors, bad option values).
    if (err instanceof CommanderError) return err.exitCode
    // Loaded only on failure: the error classes live in the (large) client and OAuth libraries.
    const { describeError } = await import('./lib/describe-error.js')
    io.stderr.write(`mqtt-oidc: ${await describeError(err)}\n`)
    return (err as { code?: unknown } | null)?.code === 'ERR_LOGIN_REQUIRED' ? EXIT.loginRequired : EXIT.failure
  }
}
