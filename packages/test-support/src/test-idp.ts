import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import type { CryptoKey, JWTPayload } from 'jose'

/**
 * A tiny but real OIDC issuer for this service's purposes: an HTTP server on
 * 127.0.0.1:0 serving a discovery document and a JWKS of a key generated here,
 * plus helpers that sign ID tokens and RFC 9068 admin access tokens with it.
 */
export interface TestIdp {
  readonly issuer: string
  /** The current signing key and its kid (rotate() changes both). */
  readonly privateKey: CryptoKey
  readonly kid: string
  /** How many times the JWKS was fetched. */
  readonly jwksFetches: number
  /** Makes a new key current; the old one stays published unless `dropOld`. */
  rotate(options?: { dropOld?: boolean }): Promise<void>
  /** An ID token for the CLI client; `claims` override the defaults (undefined removes one). */
  idToken(claims?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>
  /** An `at+jwt` access token for `audience` with scope mqtt-oidc:admin unless overridden. */
  accessToken(audience: string, claims?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>
  /** Signs anything with the IdP key. */
  sign(claims: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>
  close(): Promise<void>
}

export const now = (): number => Math.floor(Date.now() / 1000)

export async function startTestIdp(): Promise<TestIdp> {
  let { privateKey, publicKey } = await generateKeyPair('RS256')
  let kid = 'test-idp-key-1'
  let jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] }
  let issuer = ''
  let jwksFetches = 0
  let generation = 1
  const server = createServer((req, res) => {
    if (req.url === '/jwks') jwksFetches++
    const body = req.url === '/.well-known/openid-configuration' ? { issuer, jwks_uri: `${issuer}/jwks` } : req.url === '/jwks' ? jwks : undefined
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body ?? { error: 'not_found' }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const sign = (claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> => {
    const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined)) as JWTPayload
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid, ...header }).sign(privateKey)
  }
  return {
    issuer,
    get privateKey() {
      return privateKey
    },
    get kid() {
      return kid
    },
    get jwksFetches() {
      return jwksFetches
    },
    async rotate(options = {}) {
      ;({ privateKey, publicKey } = await generateKeyPair('RS256'))
      kid = `test-idp-key-${++generation}`
      const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }
      jwks = { keys: options.dropOld ? [jwk] : [...jwks.keys, jwk] }
    },
    sign,
    idToken: (claims = {}, header = {}) =>
      sign(
        {
          iss: issuer,
          aud: 'mqtt-oidc-cli',
          sub: 'account-1',
          clientid: 'gateway-1',
          username: 'alice',
          iat: now(),
          exp: now() + 300,
          ...claims,
        },
        header,
      ),
    accessToken: (audience, claims = {}, header = {}) =>
      sign(
        {
          iss: issuer,
          aud: audience,
          sub: 'mqtt-oidc-admin',
          client_id: 'mqtt-oidc-admin',
          scope: 'mqtt-oidc:admin',
          iat: now(),
          exp: now() + 300,
          jti: `at-${Math.random()}`,
          ...claims,
        },
        { typ: 'at+jwt', ...header },
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
