import { CommanderError } from 'commander'
import * as oidc from 'openid-client'
import { isMqttOidcClientError } from '@mqtt-oidc/client'
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
    io.stderr.write(`mqtt-oidc: ${describeError(err)}\n`)
    return isMqttOidcClientError(err) && err.code === 'ERR_LOGIN_REQUIRED' ? EXIT.loginRequired : EXIT.failure
  }
}

/** One line: the message, plus the network cause that `fetch failed` hides. */
export function describeError(err: unknown): string {
  let text: string
  if (err instanceof oidc.ResponseBodyError) {
    text = `the identity provider refused the request: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`
  } else if (err instanceof Error) {
    text = err.message
    const cause = networkCause(err)
    if (cause !== undefined) text = `request failed: ${cause}${/ECONNREFUSED/.test(cause) ? ' (is the stack running? try `pnpm start`)' : ''}`
  } else {
    text = String(err)
  }
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

function networkCause(err: Error): string | undefined {
  if (err.message !== 'fetch failed') return undefined // undici hides the reason in `cause`
  for (let c: unknown = err.cause; c instanceof Error; c = c.cause) {
    const e = c as NodeJS.ErrnoException & { address?: unknown; port?: unknown }
    if (typeof e.code === 'string' && e.code.startsWith('E')) {
      return `${e.code}${e.address === undefined ? '' : ` ${String(e.address)}${e.port === undefined ? '' : `:${String(e.port)}`}`}`
    }
    if (c.message) return c.message
  }
  return undefined
}
