import { decodeJwtPayload, type JwtPayload } from '@mqtt-oidc/jose'
import type { Acl } from '@mqtt-oidc/core'
import { TOKEN_EXCHANGE_GRANT, TOKEN_TYPE } from '@mqtt-oidc/core'
import { InvalidResponse, TokenExchangeRefused } from './errors.js'
import { isRecord } from '@mqtt-oidc/core'
import { readOAuthError } from './lib/read-oauth-error.js'
import { exchangeBase } from './lib/exchange-base.js'
import { endpointUrl } from './lib/urls.js'

export interface ExchangeTokenOptions {
  /** Base URL of the exchange (`http://localhost:4001`); the endpoint is `<exchangeUrl>/token`. */
  readonly exchangeUrl: string
  /** Send the request to this base URL instead (the exchange's address where `exchangeUrl` is not reachable; see discoverIssuer's `fetchFrom`). Default `exchangeUrl`. */
  readonly fetchFrom?: string | undefined
  /** Broker id: the `audience` asked for, and the `aud` of the token you get. */
  readonly broker: string
  /** The token to exchange, normally an OIDC ID token. */
  readonly subjectToken: string
  /** RFC 8693 `subject_token_type`. Default the ID token URN. */
  readonly subjectTokenType?: string | undefined
  /** Optional `scope` parameter, passed through. */
  readonly scope?: string | undefined
  readonly signal?: AbortSignal | undefined
}

/** A broker token and what the client needs to know about it (read from its claims, not verified here: the broker verifies). */
export interface BrokerToken {
  /** The broker JWT: the MQTT CONNECT password. */
  readonly token: string
  /** Its `sub`: the MQTT client id to connect with. */
  readonly clientId: string
  /** Its `username` claim, when present. */
  readonly username?: string | undefined
  /** Its `exp`, epoch seconds; undefined for a token that never expires. */
  readonly expiresAt?: number | undefined
  /** Its `acl` claim, when present. */
  readonly acl?: Acl | undefined
  /** Its `jti`, the handle for revocation. */
  readonly jti?: string | undefined
}

/**
 * Exchanges an ID token for a broker token (RFC 8693 token exchange at the
 * exchange's `/token`). An error response becomes `TokenExchangeRefused`
 * carrying the exchange's `error`, `error_description` and HTTP status.
 *
 * @example
 * const { token, clientId } = await exchangeToken({ exchangeUrl: 'http://localhost:4001', broker: 'demo', subjectToken: idToken })
 */
export async function exchangeToken(options: ExchangeTokenOptions): Promise<BrokerToken> {
  const url = endpointUrl(exchangeBase(options.exchangeUrl, options.fetchFrom), '/token')
  const body = new URLSearchParams({
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: options.subjectToken,
    subject_token_type: options.subjectTokenType ?? TOKEN_TYPE.idToken,
    audience: options.broker,
  })
  if (options.scope !== undefined) body.set('scope', options.scope)
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body,
    redirect: 'error',
    ...(options.signal ? { signal: options.signal } : {}),
  })
  if (!res.ok) throw new TokenExchangeRefused(await readOAuthError(res))
  return brokerTokenFrom(await res.json().catch(() => undefined), res.status)
}

function brokerTokenFrom(json: unknown, status: number): BrokerToken {
  if (!isRecord(json) || typeof json.access_token !== 'string') {
    throw new InvalidResponse(`token exchange answered HTTP ${status} without an access_token`)
  }
  let claims: JwtPayload
  try {
    claims = decodeJwtPayload(json.access_token, 'the broker token')
  } catch (err) {
    throw new InvalidResponse('token exchange returned an access_token that is not a JWT', { cause: err })
  }
  if (typeof claims.sub !== 'string' || claims.sub === '') throw new InvalidResponse('the broker token has no sub (client id)')
  const expiresIn = typeof json.expires_in === 'number' ? json.expires_in : undefined
  return {
    token: json.access_token,
    clientId: claims.sub,
    username: typeof claims.username === 'string' ? claims.username : undefined,
    expiresAt: typeof claims.exp === 'number' ? claims.exp : expiresIn === undefined ? undefined : Math.floor(Date.now() / 1000) + expiresIn,
    acl: isAcl(claims.acl) ? claims.acl : undefined,
    jti: typeof claims.jti === 'string' ? claims.jti : undefined,
  }
}

function isAcl(v: unknown): v is Acl {
  const strings = (a: unknown): boolean => Array.isArray(a) && a.every((x) => typeof x === 'string')
  return isRecord(v) && strings(v.pub) && strings(v.sub)
}
