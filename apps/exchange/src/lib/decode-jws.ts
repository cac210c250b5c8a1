import { TokenMalformed } from '@mqtt-oidc/core'

export interface JwsHeader { readonly alg: string; readonly kid?: unknown; readonly typ?: unknown; readonly [name: string]: unknown }
export type JwtPayload = Record<string, unknown>

export interface DecodedJws {
  readonly header: JwsHeader
  readonly payload: JwtPayload
  readonly signingInput: string
  readonly signature: Buffer
}

const SEGMENT = /^[A-Za-z0-9_-]*$/

/** Splits and parses a compact JWS (not verified); TokenMalformed when it is not one. */
export function decodeJws(token: string, what: string): DecodedJws {
  const parts = token.split('.')
  const malformed = (): TokenMalformed => new TokenMalformed(`${what} is not a well-formed signed JWT`)
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) throw malformed()
  const [h, p, s] = parts as [string, string, string]
  const header = parseObject(h)
  const payload = parseObject(p)
  if (!header || !payload || typeof header.alg !== 'string' || header.crit !== undefined) throw malformed()
  return { header: header as JwsHeader, payload, signingInput: `${h}.${p}`, signature: Buffer.from(s, 'base64url') }
}

function parseObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}
