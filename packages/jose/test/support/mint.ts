import { constants, createHmac, generateKeyPairSync, randomUUID, sign } from 'node:crypto'
import type { KeyObject } from 'node:crypto'

/** A key pair made in the test (never a fixture), its public JWK as a JWKS would publish it, and a minter of raw tokens. */
export interface TestKey {
  readonly kid: string
  readonly alg: string
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  /** `{kty, ..., kid, alg, use: 'sig'}`. */
  readonly jwk: Record<string, unknown>
  /** Signs this exact header and payload JSON text (so tests can write what JSON.stringify cannot: a member named twice). */
  signText(header: string, payload: string): string
  /** Signs a header and payload object; `header` members override `{alg, kid, typ}` (undefined removes one). */
  sign(payload: Record<string, unknown>, header?: Record<string, unknown>): string
}

const GEN: Record<string, () => { privateKey: KeyObject; publicKey: KeyObject }> = {
  EdDSA: () => generateKeyPairSync('ed25519'),
  ES256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  ES384: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  ES512: () => generateKeyPairSync('ec', { namedCurve: 'P-521' }),
  RS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
  PS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
}

export const b64 = (text: string): string => Buffer.from(text).toString('base64url')

/**
 * Signs `input` as `alg` does, with node:crypto: the test's own signer, so an
 * attack token can be exactly what the test says (any header, any bytes).
 */
export function rawSignature(alg: string, key: KeyObject, input: string): string {
  const data = Buffer.from(input)
  const hash = `sha${alg.slice(2)}`
  if (alg === 'EdDSA') return sign(null, data, key).toString('base64url')
  if (alg.startsWith('HS')) return createHmac(hash, key).update(data).digest('base64url')
  if (alg.startsWith('ES')) return sign(hash, data, { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')
  if (alg.startsWith('PS'))
    return sign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }).toString('base64url')
  return sign(hash, data, key).toString('base64url')
}

export function createTestKey(alg = 'EdDSA', options: { kid?: string; typ?: string; pair?: { privateKey: KeyObject; publicKey: KeyObject } } = {}): TestKey {
  const { privateKey, publicKey } = options.pair ?? GEN[alg]!()
  const kid = options.kid ?? randomUUID()
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg, use: 'sig' }
  const signText = (header: string, payload: string): string => {
    const input = `${b64(header)}.${b64(payload)}`
    return `${input}.${rawSignature(alg, privateKey, input)}`
  }
  const sign = (payload: Record<string, unknown>, header: Record<string, unknown> = {}): string => {
    const h = Object.fromEntries(Object.entries({ alg, kid, typ: options.typ ?? 'mqtt-broker+jwt', ...header }).filter(([, v]) => v !== undefined))
    return signText(JSON.stringify(h), JSON.stringify(Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined))))
  }
  return { kid, alg, privateKey, publicKey, jwk, signText, sign }
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** The code, claim and reason a promise rejects with (or 'resolved'). */
export async function refusal(p: Promise<unknown>): Promise<{ code?: string; claim?: string; reason?: string } | 'resolved'> {
  try {
    await p
    return 'resolved'
  } catch (err) {
    const e = err as { code?: string; claim?: string; reason?: string }
    if (e.code === undefined) throw err
    return Object.fromEntries(Object.entries({ code: e.code, claim: e.claim, reason: e.reason }).filter(([, v]) => v !== undefined))
  }
}
