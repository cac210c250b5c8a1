import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { ADMIN_SCOPE, TOKEN_EXCHANGE_GRANT, TOKEN_TYPE } from '@mqtt-oidc/core'

export interface BenchIdp {
  readonly issuer: string
  /** Form-encoded token exchange request bodies for the `demo` broker, one ID token (one subject) each. */
  readonly bodies: string[]
  /** An RFC 9068 access token with scope mqtt-oidc:admin for the exchange `audience` (its issuer URL), valid 1 h. */
  adminToken(audience: string): Promise<string>
  close(): void
}

/**
 * A minimal OIDC issuer for the exchange benchmarks (discovery + JWKS on
 * 127.0.0.1), `count` ID tokens it signed, each already a form-encoded token
 * exchange request body for the `demo` broker, and admin access tokens.
 */
export async function startBenchIdp(count = 256): Promise<BenchIdp> {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' }] })
  let issuer = ''
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(req.url === '/jwks' ? jwks : JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const now = Math.floor(Date.now() / 1000)
  const idTokens = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      new SignJWT({ clientid: `gateway-${i}`, username: `user-${i}` })
        .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
        .setIssuer(issuer)
        .setAudience('mqtt-oidc-cli')
        .setSubject(`account-${i}`)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(privateKey),
    ),
  )
  const bodies = idTokens.map((t) =>
    new URLSearchParams({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: t,
      subject_token_type: TOKEN_TYPE.idToken,
      audience: 'demo',
    }).toString(),
  )
  const adminToken = (audience: string): Promise<string> => {
    const at = Math.floor(Date.now() / 1000)
    return new SignJWT({ client_id: 'bench-admin', scope: ADMIN_SCOPE })
      .setProtectedHeader({ alg: 'RS256', kid: 'bench', typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject('bench-admin')
      .setIssuedAt(at)
      .setExpirationTime(at + 3600)
      .setJti(`bench-${at}-${Math.random()}`)
      .sign(privateKey)
  }
  return { issuer, bodies, adminToken, close: () => server.close() }
}
