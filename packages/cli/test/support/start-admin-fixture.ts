import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeSecretFile } from '@mqtt-oidc/core'
import type { Store } from '@mqtt-oidc/core'
import { createSqliteStore } from '@mqtt-oidc/store'
import { createExchange } from '@mqtt-oidc/exchange'
import { createAdminClient, type AdminClient, type AdminCredentials } from '@mqtt-oidc/client'
import { startMiniOidc, type MiniOidc } from '@mqtt-oidc/test-support/mini-oidc'

/** A mini IdP and a real exchange on SQLite, with the admin client in `<dir>/data/admin-client.json` as `npm start` writes it. */
export interface AdminFixture {
  readonly idp: MiniOidc
  readonly exchangeUrl: string
  readonly store: Store
  readonly dir: string
  readonly dataDir: string
  readonly credentials: AdminCredentials
  readonly admin: AdminClient
  close(): Promise<void>
}

export async function startAdminFixture(prefix: string): Promise<AdminFixture> {
  const idp = await startMiniOidc()
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const dataDir = join(dir, 'data')
  const store = createSqliteStore(join(dir, 'exchange.sqlite'))
  const exchange = createExchange({ store, idp: { issuer: idp.issuer }, logLevel: 'silent' })
  const exchangeUrl = (await exchange.listen()).url
  const credentials = { issuer: idp.issuer, exchange: exchangeUrl, ...idp.adminClient }
  writeSecretFile(join(dataDir, 'admin-client.json'), JSON.stringify(credentials))
  return {
    idp,
    exchangeUrl,
    store,
    dir,
    dataDir,
    credentials,
    admin: createAdminClient({ adminCredentials: credentials }),
    async close() {
      await exchange.close()
      await store.close()
      await idp.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
