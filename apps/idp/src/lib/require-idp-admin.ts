import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWK } from 'jose'
import { ADMIN_SCOPE, InsufficientScope, Unauthenticated } from '@mqtt-oidc/core'

const REALM = 'Bearer realm="mqtt-oidc"'
/** The IdP signs admin access tokens with RS256 (provider-configuration.ts). */
const ADMIN_TOKEN_ALGS = ['RS256']
/** The fields of a private JWK that a verification key set must not carry. */
const PRIVATE_FIELDS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'] as const

/** Who acts through the admin API (for the audit log; never the token). */
export interface IdpAdminIdentity {
  readonly sub: string | undefined
  readonly clientId: string | undefined
}

/**
 * The same admin OAuth as the exchange's admin API: an RFC 9068 JWT access
 * token (`typ: at+jwt`) that this IdP issued with the client credentials
 * grant, scope `mqtt-oidc:admin`, for this IdP as resource (`aud` = the
 * issuer; a token for the exchange is refused here, and the other way round).
 * Verified with the IdP's own current keys. On success `res.locals.admin`
 * holds an IdpAdminIdentity.
 */
export function requireIdpAdmin(issuer: string, jwks: readonly JWK[]): RequestHandler {
  const keys = createLocalJWKSet({ keys: jwks.map(publicJwk) })
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization')
    if (!header || !/^Bearer(\s|$)/i.test(header)) {
      res.set('WWW-Authenticate', REALM)
      throw new Unauthenticated(`an access token with scope ${ADMIN_SCOPE} is required`)
    }
    const token = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim())?.[1]
    let payload
    try {
      if (token === undefined) throw new Error('not a Bearer token68')
      ;({ payload } = await jwtVerify(token, keys, {
        issuer,
        audience: [issuer, `${issuer}/`],
        typ: 'at+jwt',
        algorithms: ADMIN_TOKEN_ALGS,
        requiredClaims: ['exp'],
      }))
    } catch (err) {
      res.set('WWW-Authenticate', `${REALM}, error="invalid_token"`)
      throw new Unauthenticated(describe(err))
    }
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : []
    if (!scopes.includes(ADMIN_SCOPE)) {
      res.set('WWW-Authenticate', `${REALM}, error="insufficient_scope", scope="${ADMIN_SCOPE}"`)
      throw new InsufficientScope(`the access token lacks scope ${ADMIN_SCOPE}`)
    }
    const identity: IdpAdminIdentity = {
      sub: typeof payload.sub === 'string' ? payload.sub : undefined,
      clientId: typeof payload.client_id === 'string' ? payload.client_id : undefined,
    }
    res.locals.admin = identity
    next()
  }
}

/** The acting admin for logs: `sub`, else `client_id`. */
export function idpAdminName(res: Response): string {
  const admin = res.locals.admin as IdpAdminIdentity | undefined
  return admin?.sub ?? admin?.clientId ?? 'unknown'
}

function publicJwk(jwk: JWK): JWK {
  const copy: Record<string, unknown> = { ...jwk }
  for (const field of PRIVATE_FIELDS) delete copy[field]
  delete copy.key_ops
  return copy
}

/** Why a token was refused, without echoing it. */
function describe(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the access token has expired'
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `the access token's ${err.claim} claim is not accepted here`
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'the access token is not signed with an accepted algorithm'
  if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey)
    return 'the access token signature does not verify'
  return 'the Authorization header is not a well-formed Bearer access token'
}
