import { decodeJwtPayload } from '@mqtt-oidc/jose'
import qrcode from 'qrcode-terminal'
import { loginWithDeviceFlow } from '@mqtt-oidc/client'
import type { DevicePrompt } from '@mqtt-oidc/client'
import type { TokenSet } from '@mqtt-oidc/client'
import { tokenStoreKey } from '@mqtt-oidc/client'
import { CliError } from './cli-error.js'
import { writeLine } from './cli-io.js'
import type { CliIo } from './cli-io.js'
import { startProgress } from './progress.js'
import type { Session } from './session.js'

export interface DeviceLoginOptions {
  readonly scope: string
  /** Print a QR code of the complete verification URL. */
  readonly qr: boolean
}

/**
 * The CLI's device login (`login --device`, and `gateway` when it has no
 * usable login): prints the URL, the code (and a QR code), waits for the
 * person to approve, saves the tokens in the session's store and says who
 * signed in. Ctrl-C cancels with a `login cancelled` error.
 */
export async function runDeviceLogin(io: CliIo, session: Session, opts: DeviceLoginOptions): Promise<TokenSet> {
  const abort = new AbortController()
  const onSigint = (): void => abort.abort(new CliError('login cancelled'))
  process.once('SIGINT', onSigint)
  let progress: { stop(): void } | undefined
  try {
    const tokens = await loginWithDeviceFlow(session.config, {
      scope: opts.scope,
      signal: abort.signal,
      onPrompt: (p) => {
        printPrompt(io, p, opts.qr)
        progress = startProgress(io.stderr, 'waiting for approval', p.expiresIn)
      },
    })
    progress?.stop()
    await session.store.set(tokenStoreKey(session.config), tokens)
    reportLogin(io, session, tokens)
    return tokens
  } catch (err) {
    throw abort.signal.aborted ? abort.signal.reason : err
  } finally {
    progress?.stop()
    process.off('SIGINT', onSigint)
  }
}

/** `Logged in to <issuer> as <who> (MQTT client id <id>).` on stderr. */
export function reportLogin(io: CliIo, session: Session, tokens: TokenSet): void {
  const claims = decodeJwtPayload(tokens.idToken, 'the ID token')
  // Our IdP says `username`; other providers say preferred_username (OIDC Core §5.1) or only email.
  const who = [claims.username, claims.preferred_username, claims.email, claims.sub].find((v) => typeof v === 'string')
  const clientid = typeof claims.clientid === 'string' ? ` (MQTT client id ${claims.clientid})` : ''
  writeLine(io.stderr, `Logged in to ${session.config.serverMetadata().issuer} as ${who}${clientid}.`)
}

function printPrompt(io: CliIo, p: DevicePrompt, qr: boolean): void {
  writeLine(io.stderr, `To sign in, open ${p.verificationUri} and enter the code: ${p.userCode}`)
  if (p.verificationUriComplete !== undefined) {
    writeLine(io.stderr, `Or open (or scan) ${p.verificationUriComplete}`)
    if (qr) qrcode.generate(p.verificationUriComplete, { small: true }, (code) => writeLine(io.stderr, code))
  }
  writeLine(io.stderr, `Waiting for approval (the code expires in ${Math.round(p.expiresIn / 60)} min; Ctrl-C to cancel)...`)
}
