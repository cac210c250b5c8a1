import { createHash, randomBytes } from 'node:crypto'
import { KeysUnavailable } from '@mqtt-oidc/core'
import type { ConsoleClient } from './console-options.js'

/** What the console reads from the IdP's discovery document. */
interface Endpoints {
  readonly authorization: string
  readonly token: string
  readonly revocation: string | undefined
  readonly endSession: string | undefined
}

/** The IdP's answer to a code or refresh token grant. */
export interface TokenResponse {
  readonly access_token: string
  readonly id_token?: string
  readonly refresh_token?: string
  readonly expires_in?: number
  readonly scope?: string
}

/** The IdP refused a grant (`invalid_grant`: the sign-in is over) or could not be reached. */
export class IdpRefused extends Error {
  constructor(
    message: string,
    readonly error: string | undefined,
  ) {
    super(message)
    this.name = 'IdpRefused'
  }
}

export interface IdpClient {
  /** Where to send the browser to sign in: the IdP's public authorization endpoint with these parameters. */
  authorizationUrl(params: {
    state: string
    nonce: string
    codeChallenge: string
    redirectUri: string
    resource: string
    prompt?: 'login' | undefined
  }): Promise<string>
  /** The authorization code grant (client_secret_basic). */
  redeem(params: { code: string; codeVerifier: string; redirectUri: string; resource: string }): Promise<TokenResponse>
  /** The refresh token grant; throws IdpRefused with `invalid_grant` when the sign-in has ended. */
  refresh(refreshToken: string, resource: string): Promise<TokenResponse>
  /** Revokes a refresh token (sign-out); failures are ignored. */
  revoke(refreshToken: string): Promise<void>
  /** The IdP's end-session URL (RP-initiated logout) for a signed-out browser, if it has one. */
  endSessionUrl(idToken: string, postLogoutRedirectUri: string): Promise<string | undefined>
}

const TIMEOUT_MS = 10_000

/**
 * The console's side of the authorization code flow with our IdP, as a
 * confidential client: discovery (the document must name the issuer), the
 * browser's URLs from it, and the back-channel requests sent to `fetchFrom`
 * when the issuer's address is not reachable from the exchange.
 */
export function createIdpClient(issuer: string, client: () => ConsoleClient | undefined, fetchFrom?: string): IdpClient {
  let endpoints: Promise<Endpoints> | undefined
  const base = (fetchFrom ?? issuer).replace(/\/+$/, '')
  // A back-channel URL: the IdP's public one, sent to where the IdP answers from here.
  const backChannel = (url: string): string => (fetchFrom ? `${base}${new URL(url).pathname}` : url)

  const discover = (): Promise<Endpoints> => {
    endpoints ??= (async () => {
      const url = `${base}/.well-known/openid-configuration`
      let meta: Record<string, unknown>
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error', headers: { accept: 'application/json' } })
        if (!res.ok) throw new Error(`HTTP ${res.status}`)
        meta = (await res.json()) as Record<string, unknown>
      } catch (cause) {
        throw new KeysUnavailable(`cannot read the identity provider's discovery document at ${url}`, { cause })
      }
      const str = (key: string): string | undefined => (typeof meta[key] === 'string' ? meta[key] : undefined)
      const authorization = str('authorization_endpoint')
      const token = str('token_endpoint')
      if (meta.issuer !== issuer.replace(/\/+$/, '') || !authorization || !token) {
        throw new KeysUnavailable(`the discovery document at ${url} does not name issuer ${issuer} with its endpoints`)
      }
      return { authorization, token, revocation: str('revocation_endpoint'), endSession: str('end_session_endpoint') }
    })()
    endpoints.catch(() => {
      endpoints = undefined
    }) // try again next time
    return endpoints
  }

  const credentials = (): ConsoleClient => {
    const c = client()
    if (!c) throw new IdpRefused('the console has no client credentials', 'invalid_client')
    return c
  }
  // RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined.
  const basic = (c: ConsoleClient): string =>
    `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`

  const grant = async (form: Record<string, string>): Promise<TokenResponse> => {
    const { token } = await discover()
    let res: Response
    try {
      res = await fetch(backChannel(token), {
        method: 'POST',
        headers: { authorization: basic(credentials()), accept: 'application/json' },
        body: new URLSearchParams(form),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      })
    } catch (cause) {
      throw new KeysUnavailable("cannot reach the identity provider's token endpoint", { cause })
    }
    const body = (await res.json().catch(() => ({}))) as Partial<TokenResponse> & { error?: string; error_description?: string }
    if (!res.ok || typeof body.access_token !== 'string') {
      throw new IdpRefused(
        `the identity provider refused the ${form.grant_type} grant: ${body.error ?? res.status}${body.error_description ? ` (${body.error_description})` : ''}`,
        body.error,
      )
    }
    return body as TokenResponse
  }

  return {
    async authorizationUrl(p) {
      const url = new URL((await discover()).authorization)
      url.search = new URLSearchParams({
        client_id: credentials().clientId,
        response_type: 'code',
        redirect_uri: p.redirectUri,
        scope: 'openid mqtt-oidc:admin',
        resource: p.resource,
        state: p.state,
        nonce: p.nonce,
        code_challenge: p.codeChallenge,
        code_challenge_method: 'S256',
        ...(p.prompt ? { prompt: p.prompt } : {}),
      }).toString()
      return url.href
    },
    redeem: (p) => grant({ grant_type: 'authorization_code', code: p.code, code_verifier: p.codeVerifier, redirect_uri: p.redirectUri, resource: p.resource }),
    refresh: (refreshToken, resource) => grant({ grant_type: 'refresh_token', refresh_token: refreshToken, resource }),
    async revoke(refreshToken) {
      try {
        const { revocation } = await discover()
        if (!revocation) return
        await fetch(backChannel(revocation), {
          method: 'POST',
          headers: { authorization: basic(credentials()) },
          body: new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token' }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        })
      } catch {
        // The refresh token still ends with the IdP session or its lifetime.
      }
    },
    async endSessionUrl(idToken, postLogoutRedirectUri) {
      const { endSession } = await discover().catch(() => ({ endSession: undefined }))
      if (!endSession) return undefined
      const url = new URL(endSession)
      url.search = new URLSearchParams({
        id_token_hint: idToken,
        post_logout_redirect_uri: postLogoutRedirectUri,
        client_id: credentials().clientId,
      }).toString()
      return url.href
    },
  }
}

/** A random URL-safe value of 32 bytes (PKCE verifier, state, nonce, session ids). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url')
}

/** The PKCE S256 challenge of `verifier` (RFC 7636 §4.2). */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}
