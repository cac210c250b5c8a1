import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { ADMIN_SCOPE, InsufficientScope, Unauthenticated, isMqttOidcError, refusalFor } from '@mqtt-oidc/core'
import { ACCESS_TOKEN_TYP, createJwtVerifier } from '@mqtt-oidc/jose'
import type { JwtVerifier, KeySource } from '@mqtt-oidc/jose'
import { IDP_TOKEN_ALGS } from './verify-subject-token.js'

export interface AdminPolicy {
  /** The trusted IdP's issuer (`iss` of access tokens). */
  readonly issuer: string
  /** This exchange's issuer URL (`aud` of access tokens); read per request since it may be known only after listen(). */
  readonly audience: () => string
  readonly keys: KeySource
  /** Told of every presented access token checked: the refusal code, undefined when valid (metrics). */
  readonly onVerify?: ((code: string | undefined) => void) | undefined
}

/** Who is acting, for the audit log (never the token). */
export interface AdminIdentity {
  readonly sub: string | undefined
  readonly clientId: string | undefined
  /** A person's username (our IdP puts it in the access tokens it issues to people); undefined for a client's own token. */
  readonly username: string | undefined
  /** When the access token expires, epoch seconds. */
  readonly expiresAt: number | undefined
  /** 'all' (scope mqtt-oidc:admin), or the brokers named by `mqtt-oidc:admin:broker:<id>` scopes. */
  readonly brokers: 'all' | readonly string[]
}

/** Scope prefix of an admin token limited to one broker: `mqtt-oidc:admin:broker:<id>`. */
export const BROKER_ADMIN_SCOPE_PREFIX = `${ADMIN_SCOPE}:broker:`

const REALM = 'Bearer realm="mqtt-oidc"'

/**
 * Express middleware: requires an RFC 9068 JWT access token (`typ: at+jwt`)
 * from the IdP, for this exchange, with scope `mqtt-oidc:admin`. No
 * anonymous access, even on loopback. On success `res.locals.admin` holds
 * an AdminIdentity.
 */
export function requireAdmin(policy: AdminPolicy): RequestHandler {
  // made at the first request: the audience (this exchange's URL) may be known only after listen()
  let verifier: { audience: string; jwt: JwtVerifier } | undefined
  const accessTokens = (): JwtVerifier => {
    const audience = policy.audience()
    if (verifier?.audience !== audience) {
      verifier = {
        audience,
        jwt: createJwtVerifier(policy.keys, {
          algorithms: IDP_TOKEN_ALGS,
          ...ACCESS_TOKEN_TYP,
          issuer: policy.issuer,
          // A resource indicator may be sent with or without the trailing slash.
          audience: [audience, `${audience}/`],
          requiredClaims: ['exp'],
          what: 'access token',
        }),
      }
    }
    return verifier.jwt
  }
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req)
    if (token === null) {
      res.set('WWW-Authenticate', `${REALM}, error="invalid_token"`)
      throw new Unauthenticated('the Authorization header is not a well-formed Bearer credential')
    }
    if (token === undefined) {
      res.set('WWW-Authenticate', REALM)
      throw new Unauthenticated(`an access token with scope ${ADMIN_SCOPE} is required`)
    }
    const payload = await verifyAccessToken(token, accessTokens(), res).then((verified) => {
      policy.onVerify?.(undefined)
      return verified
    }, (err: unknown) => {
      policy.onVerify?.(refusalFor(err).code)
      throw err
    })
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : []
    const scoped = scopes.filter((s) => s.startsWith(BROKER_ADMIN_SCOPE_PREFIX)).map((s) => s.slice(BROKER_ADMIN_SCOPE_PREFIX.length))
    if (!scopes.includes(ADMIN_SCOPE) && scoped.length === 0) {
      res.set('WWW-Authenticate', `${REALM}, error="insufficient_scope", scope="${ADMIN_SCOPE}"`)
      throw new InsufficientScope(`the access token lacks scope ${ADMIN_SCOPE}`)
    }
    const identity: AdminIdentity = {
      sub: typeof payload.sub === 'string' ? payload.sub : undefined,
      clientId: typeof payload.client_id === 'string' ? payload.client_id : undefined,
      username: typeof payload.username === 'string' && payload.username.length <= 256 ? payload.username : undefined,
      expiresAt: typeof payload.exp === 'number' ? payload.exp : undefined,
      brokers: scopes.includes(ADMIN_SCOPE) ? 'all' : scoped,
    }
    res.locals.admin = identity
    next()
  }
}

async function verifyAccessToken(token: string, jwt: JwtVerifier, res: Response) {
  try {
    return (await jwt.verify(token)).payload
  } catch (err) {
    if (!isMqttOidcError(err) || !err.code.startsWith('ERR_TOKEN_')) throw err
    res.set('WWW-Authenticate', `${REALM}, error="invalid_token"`)
    throw new Unauthenticated(err.message)
  }
}

/** undefined: no Bearer credential at all; null: a Bearer credential that is not a token68. */
function bearerToken(req: Request): string | undefined | null {
  const header = req.get('authorization')
  if (!header || !/^Bearer(\s|$)/i.test(header)) return undefined
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim())
  return m?.[1] ?? null
}

/**
 * Refuses (403 insufficient_scope) an admin whose token is limited to other
 * brokers; `broker` undefined means an action on no single broker (create),
 * which needs the unrestricted admin scope.
 */
export function requireBrokerScope(res: Response, broker: string | undefined): void {
  const admin = res.locals.admin as AdminIdentity | undefined
  if (admin?.brokers === 'all' || (broker !== undefined && admin?.brokers.includes(broker))) return
  const needed = broker === undefined ? ADMIN_SCOPE : `${BROKER_ADMIN_SCOPE_PREFIX}${broker}`
  res.set('WWW-Authenticate', `${REALM}, error="insufficient_scope", scope="${needed}"`)
  throw new InsufficientScope(broker === undefined ? `this action needs scope ${ADMIN_SCOPE}` : `the access token may not act on broker "${broker.slice(0, 64)}"`)
}

/** True when the acting admin may see `broker`. */
export function mayActOn(res: Response, broker: string): boolean {
  const admin = res.locals.admin as AdminIdentity | undefined
  return admin?.brokers === 'all' || (admin?.brokers.includes(broker) ?? false)
}

/** The acting admin as a short string for logs and records: a person's username, else `sub`, else `client_id`. */
export function adminName(res: Response): string {
  const admin = res.locals.admin as AdminIdentity | undefined
  return admin?.username ?? admin?.sub ?? admin?.clientId ?? 'unknown'
}

/** The acting admin's identifiers besides its name, for the audit log: a person's account id and the app they acted through. */
export function adminDetails(res: Response): Record<string, string> {
  const admin = res.locals.admin as AdminIdentity | undefined
  if (admin?.username === undefined) return {}
  return { ...(admin.sub ? { sub: admin.sub } : {}), ...(admin.clientId ? { via: admin.clientId } : {}) }
}
