import { describe, expect, it } from 'vitest'
import { AclDenied, ClientIdMismatch, TokenAudienceInvalid, TokenExpired, TokenRevoked } from '../src/errors.js'
import { REFUSALS, refusalFor } from '../src/refusals.js'

describe('refusal table', () => {
  it('maps invalid credentials to CONNACK 4 and valid-but-not-allowed to CONNACK 5', () => {
    expect(refusalFor(new TokenExpired('x'))).toMatchObject({ code: 'ERR_TOKEN_EXPIRED', connack: 4, reasonCode: 0x86 })
    expect(refusalFor(new TokenRevoked('x'))).toMatchObject({ connack: 4 })
    expect(refusalFor(new TokenAudienceInvalid('x'))).toMatchObject({ connack: 5, reasonCode: 0x87 })
    expect(refusalFor(new ClientIdMismatch('x'))).toMatchObject({ connack: 5, reasonCode: 0x85 })
    expect(refusalFor(new AclDenied('x'))).toMatchObject({ oauthError: 'access_denied', httpStatus: 403 })
  })

  it('turns anything unexpected into server_error', () => {
    expect(refusalFor(new Error('boom'))).toEqual({ code: 'ERR_SERVER', ...REFUSALS.ERR_SERVER })
  })

  it('gives every code an HTTP status and a CONNACK refusal', () => {
    for (const row of Object.values(REFUSALS)) {
      expect(row.httpStatus).toBeGreaterThanOrEqual(400)
      expect(row.connack).toBeGreaterThan(0)
    }
  })
})
