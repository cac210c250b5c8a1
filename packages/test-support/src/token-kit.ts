import { KeyObject, randomUUID, sign as cryptoSign } from 'node:crypto'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose'
import type { CryptoKey, JWK } from 'jose'

export interface TokenKit {
  readonly kid: string
  readonly alg: string
  readonly publicJwk: JWK
  readonly privateKey: CryptoKey
  /** The public key as SPKI PEM (what an HS256-confusion attacker would use as the secret). */
  readonly spki: string
  /**
   * Signs a broker token. Defaults: iss/aud of the kit, sub `c1`, a fresh jti,
   * iat/nbf now, exp now+300, acl pub+sub `devices/${clientid}/#`. A claim set
   * to `undefined` is left out. `header` is merged over `{alg, kid, typ}`.
   */
  sign(claims?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>
  /** Signs exactly this header and payload with node:crypto (EdDSA kits only): for headers jose refuses to emit, such as `crit`. */
  signRaw(header: Record<string, unknown>, payload: Record<string, unknown>): string
  /** Signs this exact header and payload JSON text (EdDSA kits only): for what JSON.stringify cannot write, such as a member named twice. */
  signText(header: string, payload: string): string
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** Generates a signing key in the test (never a fixture) and mints broker tokens with it. */
export async function createTokenKit(options: { issuer: string; audience: string; alg?: string; kid?: string }): Promise<TokenKit> {
  const alg = options.alg ?? 'EdDSA'
  const kid = options.kid ?? randomUUID()
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  const spki = await exportSPKI(publicKey)
  async function sign(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
    const now = nowSeconds()
    const payload: Record<string, unknown> = {
      iss: options.issuer,
      aud: options.audience,
      sub: 'c1',
      jti: randomUUID(),
      iat: now,
      nbf: now,
      exp: now + 300,
      acl: { pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#'] },
      ...claims,
    }
    for (const key of Object.keys(payload)) if (payload[key] === undefined) delete payload[key]
    return new SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'mqtt-broker+jwt', ...header }).sign(privateKey)
  }
  function signText(header: string, payload: string): string {
    const input = `${Buffer.from(header).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`
    return `${input}.${cryptoSign(null, Buffer.from(input), KeyObject.from(privateKey)).toString('base64url')}`
  }
  const signRaw = (header: Record<string, unknown>, payload: Record<string, unknown>): string => signText(JSON.stringify(header), JSON.stringify(payload))
  return { kid, alg, publicJwk, privateKey, spki, sign, signRaw, signText }
}

/** A compact JWS with `alg: none` and an empty signature. */
export function unsignedToken(payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
  return `${b64({ alg: 'none', typ: 'mqtt-broker+jwt', ...header })}.${b64(payload)}.`
}
