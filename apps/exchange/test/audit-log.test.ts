import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { TOKEN_EXCHANGE_GRANT, TOKEN_TYPE } from '@mqtt-oidc/core'
import { ensureBroker } from '../src/ensure-broker.js'
import { startExchange } from './support/harness.js'
import { startTestIdp } from '@mqtt-oidc/test-support/test-idp'
import type { TestIdp } from '@mqtt-oidc/test-support/test-idp'

let idp: TestIdp
beforeAll(async () => {
  idp = await startTestIdp()
})
afterAll(async () => {
  await idp.close()
})

describe('audit log', () => {
  it('records who did what to which broker and jti, and never a token', async () => {
    const lines: string[] = []
    const logger = pino(
      { level: 'debug' },
      {
        write: (line: string) => {
          lines.push(line)
        },
      },
    )
    const ex = await startExchange(idp, { logger })
    try {
      await ensureBroker(ex.store, { id: 'demo' })
      const issued = (await (await ex.api('POST', '/admin/brokers/demo/credentials', { clientIds: ['gw-1'] })).json()) as Record<string, string>
      const { jti } = JSON.parse(Buffer.from(issued['gw-1']!.split('.')[1]!, 'base64url').toString()) as { jti: string }
      await ex.api('POST', '/admin/brokers/demo/revocations', { jtis: [jti] })
      const idToken = await idp.idToken()
      const exchanged = (await (
        await ex.exchangeToken({
          grant_type: TOKEN_EXCHANGE_GRANT,
          subject_token: idToken,
          subject_token_type: TOKEN_TYPE.idToken,
          audience: 'demo',
        })
      ).json()) as { access_token: string }
      await ex.exchangeToken({ grant_type: TOKEN_EXCHANGE_GRANT, subject_token: `${idToken}x`, subject_token_type: TOKEN_TYPE.idToken, audience: 'demo' })

      const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
      const audits = records.filter((r) => r.audit === true)
      expect(audits.map((r) => [r.level, r.who, r.action, r.broker])).toEqual([
        [30, 'mqtt-oidc-admin', 'credentials.issue', 'demo'],
        [30, 'mqtt-oidc-admin', 'revocations.revoke', 'demo'],
      ])
      expect(audits[0]).toMatchObject({ jtis: [jti], client_ids: ['gw-1'] })
      expect(audits[1]).toMatchObject({ jtis: [jti], changed: [jti], revision: 1 })
      const all = lines.join('\n')
      for (const secret of [issued['gw-1']!, idToken, exchanged.access_token, ex.admin]) {
        for (const part of secret.split('.')) expect(all).not.toContain(part)
      }
    } finally {
      await ex.close()
    }
  })
})
