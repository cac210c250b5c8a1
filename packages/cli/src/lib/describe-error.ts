import * as oidc from 'openid-client'
import { ConnectRefused } from '@mqtt-oidc/client'

/**
 * What a bare CONNACK code means with our tokens, when the client library
 * could not narrow it further (MQTT 3.1.1 has one code for every bad
 * credential; a revoked or expired token is reported as such before this).
 */
const UNVERIFIED =
  ": the broker could not verify the token, though neither the exchange's token status nor its exp says revoked or expired " +
  '(a signing key or issuer the broker does not know yet? a token not valid yet?)'
const CONNACK_REASON: Readonly<Record<number, string>> = {
  3: ': the broker cannot check tokens now (its JWKS or revocation feed is unreachable?); try again later',
  4: UNVERIFIED,
  0x86: UNVERIFIED,
}

/** One line: the message, plus the network cause that `fetch failed` hides. */
export async function describeError(err: unknown): Promise<string> {
  let text: string
  if (err instanceof oidc.ResponseBodyError) {
    text = `the identity provider refused the request: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`
  } else if (err instanceof ConnectRefused) {
    text = `${err.message}${CONNACK_REASON[err.returnCode] ?? ''}`
  } else if (err instanceof Error) {
    text = err.message
    const cause = networkCause(err)
    if (cause !== undefined) text = `request failed: ${cause}${/ECONNREFUSED/.test(cause) ? ' (is the stack running? try `npm start`)' : ''}`
  } else {
    text = String(err)
  }
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

function networkCause(err: Error): string | undefined {
  if (err.message !== 'fetch failed') return undefined // undici hides the reason in `cause`
  for (let c: unknown = err.cause; c instanceof Error; c = c.cause) {
    const e = c as NodeJS.ErrnoException & { address?: string; port?: number }
    if (typeof e.code === 'string' && e.code.startsWith('E')) {
      return `${e.code}${e.address === undefined ? '' : ` ${e.address}${e.port === undefined ? '' : `:${e.port}`}`}`
    }
    if (c.message) return c.message
  }
  return undefined
}
