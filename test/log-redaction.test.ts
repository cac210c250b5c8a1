import type { Logger } from 'pino'
import { describe, expect, it } from 'vitest'
import { createIdpLogger } from '@mqtt-oidc/idp'
import { createExchangeLogger } from '@mqtt-oidc/exchange'
import { createBrokerLogger } from '@mqtt-oidc/broker'

// Every app's logger, as its entry point and its factory make it, with one
// line holding every kind of secret the apps handle, in the places a careless
// log call would put them: as fields, nested in a request, in an error (its
// message, its own fields, its cause), in the message itself.

const JWT = 'eyJhbGciOiJFZERTQSIsInR5cCI6Im1xdHQtYnJva2VyK2p3dCJ9.eyJzdWIiOiJnYXRld2F5LTEifQ.bm90LWEtcmVhbC1zaWduYXR1cmU'
const SECRETS = {
  password: 'pw-hunter2-secret',
  newPassword: 'pw-next-secret',
  passwordHash: 'scrypt$16384$8$1$salt$hash-secret',
  token: 'tok-plain-secret',
  access_token: 'at-secret-value',
  refresh_token: 'rt-secret-value',
  id_token: JWT,
  subject_token: 'st-secret-value',
  idToken: 'idt-camel-secret',
  refreshToken: 'rft-camel-secret',
  accessToken: 'act-camel-secret',
  client_secret: 'cs-snake-secret',
  clientSecret: 'cs-camel-secret',
  hmacSecret: 'hmac-secret-value',
  apiSecret: 'emqx-api-secret',
  feedCredential: 'mqof_feedcredentialsecretvalue0123',
  privateJwk: { kty: 'OKP', d: 'private-key-d-secret' },
  code_verifier: 'pkce-verifier-secret',
  device_code: 'device-code-secret',
  initialAccessToken: 'iat-secret-value',
}
const LOGGERS: Record<string, (write: (line: string) => void) => Logger> = {
  idp: (write) => createIdpLogger('info', { write }),
  exchange: (write) => createExchangeLogger('info', { write }),
  broker: (write) => createBrokerLogger('broker', 'info', { write }),
  'emqx-hook': (write) => createBrokerLogger('emqx-hook', 'info', { write }),
}

describe("every app's logger", () => {
  it.each(Object.keys(LOGGERS))('%s writes no secret, wherever a log call puts it', (app) => {
    const lines: string[] = []
    const log = LOGGERS[app]!((line) => lines.push(line)).child({ authorization: `Bearer ${JWT}` })
    const err = Object.assign(new Error(`could not verify ${JWT}`), {
      config: { headers: { Authorization: 'Basic dXNlcjpzZWNyZXQtYmFzaWM=' } },
      cause: new Error('feed mqof_causesecretvalue0123456789 refused'),
    })
    log.warn(
      {
        ...SECRETS,
        req: {
          method: 'POST',
          url: `/cb?code=abc&id_token=${JWT}`,
          headers: {
            authorization: 'Bearer header-bearer-secret',
            cookie: '_session=cookie-secret',
            'set-cookie': ['a=set-cookie-secret'],
            'x-api-key': 'api-key-secret',
          },
        },
        body: `grant_type=refresh_token&refresh_token=form-refresh-secret&client_secret=form-client-secret`,
        nested: [{ deeper: { client_secret: 'deep-client-secret', jti: '01JTI' } }],
        err,
        code: 'ERR_TOKEN_EXPIRED',
        jti: '01JTI',
        client_id: 'gateway-1',
        sub: 'account-1',
      },
      `exchange refused for subject token ${JWT} (Bearer msg-bearer-secret)`,
    )
    expect(lines).toHaveLength(1)
    const line = lines[0]!
    const values = [
      ...Object.values(SECRETS).filter((v): v is string => typeof v === 'string'),
      'private-key-d-secret',
      'header-bearer-secret',
      'cookie-secret',
      'set-cookie-secret',
      'api-key-secret',
      'form-refresh-secret',
      'form-client-secret',
      'deep-client-secret',
      'dXNlcjpzZWNyZXQtYmFzaWM=',
      'mqof_causesecretvalue0123456789',
      'msg-bearer-secret',
      'eyJ',
    ]
    for (const secret of values) expect(line, `${app} leaks ${secret}`).not.toContain(secret)
    const entry = JSON.parse(line) as Record<string, unknown>
    for (const field of Object.keys(SECRETS)) expect(entry[field], field).toBe('[Redacted]')
    expect(entry).toMatchObject({
      level: 40,
      code: 'ERR_TOKEN_EXPIRED',
      jti: '01JTI',
      client_id: 'gateway-1',
      sub: 'account-1',
      authorization: '[Redacted]',
      req: {
        method: 'POST',
        url: '/cb?code=abc&id_token=[Redacted]',
        headers: { authorization: '[Redacted]', cookie: '[Redacted]', 'set-cookie': '[Redacted]', 'x-api-key': '[Redacted]' },
      },
      nested: [{ deeper: { client_secret: '[Redacted]', jti: '01JTI' } }],
      err: {
        type: 'Error',
        message: 'could not verify [Redacted]',
        config: { headers: { Authorization: '[Redacted]' } },
        cause: { message: 'feed [Redacted] refused' },
      },
      msg: 'exchange refused for subject token [Redacted] (Bearer [Redacted])',
    })
  })
})
