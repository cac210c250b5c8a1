import { describe, expect, it } from 'vitest'
import { REDACTED, isSecretField, redactSecrets, redactText } from '../src/redact-secrets.js'

const JWT = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJlLWJ5dGVz'

describe('redactSecrets', () => {
  it('knows every kind of secret field by name, in any spelling, and leaves the fields logs need', () => {
    for (const name of [
      'password',
      'newPassword',
      'token',
      'access_token',
      'refresh_token',
      'refreshToken',
      'id_token',
      'idToken',
      'subject_token',
      'actor_token',
      'initialAccessToken',
      'client_secret',
      'clientSecret',
      'hmacSecret',
      'apiSecret',
      'authorization',
      'Authorization',
      'proxy-authorization',
      'cookie',
      'set-cookie',
      'privateJwk',
      'private_key',
      'x-api-key',
      'client_assertion',
      'code_verifier',
      'device_code',
      'feedCredential',
    ]) {
      expect(isSecretField(name), name).toBe(true)
    }
    for (const name of [
      'code',
      'jti',
      'sub',
      'client_id',
      'broker',
      'kid',
      'token_type',
      'issued_token_type',
      'expires_in',
      'credentials',
      'user_code',
      'msg',
      'err',
    ]) {
      expect(isSecretField(name), name).toBe(false)
    }
  })

  it('redacts secret fields at any depth, in arrays and in errors, and secrets inside text', () => {
    const err = Object.assign(new Error(`exchange of ${JWT} failed`), {
      code: 'ERR_X',
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
      cause: new Error('Bearer abcdefghijkl'),
    })
    const cyclic: Record<string, unknown> = { name: 'loop' }
    cyclic.self = cyclic
    const out = redactSecrets({
      req: { headers: { authorization: 'Bearer abc.def.ghi', cookie: 'sid=1', host: 'idp' } },
      form: [{ refresh_token: 'r1' }, { nested: { deeper: { client_secret: 's1' } } }],
      url: `https://idp.example/cb?code=c1&id_token=${JWT}&state=x`,
      note: 'feed mqof_abcdefghijklmnopqrstuvwxyz read',
      cyclic,
      err,
      at: new Date(0),
      jti: '01J',
    }) as Record<string, unknown>
    expect(out.req).toEqual({ headers: { authorization: REDACTED, cookie: REDACTED, host: 'idp' } })
    expect(out.form).toEqual([{ refresh_token: REDACTED }, { nested: { deeper: { client_secret: REDACTED } } }])
    expect(out.url).toBe(`https://idp.example/cb?code=c1&id_token=${REDACTED}&state=x`)
    expect(out.note).toBe(`feed ${REDACTED} read`)
    expect(out.cyclic).toEqual({ name: 'loop', self: '[Circular]' })
    expect(out.err).toMatchObject({
      type: 'Error',
      message: `exchange of ${REDACTED} failed`,
      code: 'ERR_X',
      headers: { authorization: REDACTED },
      cause: { message: `Bearer ${REDACTED}` },
    })
    expect((out.err as { stack?: string }).stack).toContain(`exchange of ${REDACTED} failed`)
    expect(JSON.stringify(out)).not.toMatch(/eyJ|abc\.def|sid=1|r1|s1|dXNlcjpwYXNz|abcdefghijkl/)
    expect(out.at).toEqual(new Date(0))
    expect(out.jti).toBe('01J')
  })

  it('leaves text without secrets as it is', () => {
    expect(redactText('token exchanged for broker demo (expires_in=3600)')).toBe('token exchanged for broker demo (expires_in=3600)')
  })
})
