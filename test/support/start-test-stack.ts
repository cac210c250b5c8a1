/**
 * The whole stack in-process on 127.0.0.1 with real servers on free ports,
 * real SQLite files in a temp data dir, laid out exactly as `pnpm start`
 * lays out ./.data, so the CLI finds its admin credential there.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '@mqtt-oidc/test-support/free-port'
import type { Store } from '@mqtt-oidc/core'
import { createSqliteStore } from '@mqtt-oidc/store'
import { createAccount, createIdp, ensureDemoAccount, loadOrCreateAdminClient, loadOrCreateConsoleClient } from '@mqtt-oidc/idp'
import { createExchange, ensureBroker, ensureFeedCredential, readConsoleClient, type TrustedIssuerOptions } from '@mqtt-oidc/exchange'
import { createBroker } from '@mqtt-oidc/broker'

export interface TestStack {
  readonly dataDir: string
  readonly configDir: string
  readonly idpUrl: string
  readonly exchangeUrl: string
  readonly mqttUrl: string
  readonly mqttPort: number
  readonly brokerId: string
  readonly demo: { username: string; password: string; clientId: string }
  readonly idpStore: Store
  readonly exchangeStore: Store
  /** Adds an account to the IdP (for a second user), in `groups` (e.g. mqtt-oidc-admins, for the console). */
  addAccount(username: string, password: string, clientIds: string[], groups?: string[]): Promise<void>
  /** The file holding the broker's revocation-feed credential (issued on first call), as the embedded stack lays it out. */
  feedCredentialFile(brokerId: string): Promise<string>
  /** Starts another aedes broker for another broker id, following the same exchange. */
  startBroker(brokerId: string): Promise<{ mqttUrl: string; mqttPort: number; close(): Promise<void> }>
  close(): Promise<void>
}


export interface TestStackOptions {
  idTokenTtl?: number
  maxLifetime?: number
  /** The exchange's SSE keepalive period, ms (default: the exchange's). */
  keepaliveMs?: number
  /** How long the brokers' revocation feed may be silent before new CONNECTs are refused, ms (default: the broker's). */
  feedMaxStaleMs?: number
  /** Client ids of our IdP whose tokens the exchange accepts (default: the CLI's). */
  idpClientIds?: string[]
  /** Other OIDC issuers the exchange trusts (default none). */
  trustedIssuers?: TrustedIssuerOptions[]
  /** RFC 7591 registration at the IdP (default off). */
  dynamicRegistration?: boolean
  /** How often idle broker nodes report their sessions, seconds (default: the exchange's). */
  sessionHeartbeatSeconds?: number
}

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-e2e-'))
  const configDir = join(dataDir, 'cli-config')
  const closers: Array<() => Promise<void>> = []
  try {
    const exchangePort = await freePort()
    const exchangeUrl = `http://127.0.0.1:${exchangePort}`
    const idpStore = createSqliteStore(join(dataDir, 'idp.sqlite'))
    closers.push(() => idpStore.close())
    const exchangeStore = createSqliteStore(join(dataDir, 'exchange.sqlite'))
    closers.push(() => exchangeStore.close())

    const idpPort = await freePort()
    const idpUrl = `http://127.0.0.1:${idpPort}`
    const admin = loadOrCreateAdminClient(dataDir, { issuer: idpUrl, exchange: exchangeUrl })
    const idp = createIdp({
      store: idpStore,
      issuer: idpUrl,
      port: idpPort,
      exchangeUrl,
      adminClient: admin,
      cookieKeys: ['test-cookie-key-0123456789abcdef'],
      devicePollInterval: 1,
      logLevel: 'silent',
      dynamicRegistration: options.dynamicRegistration ?? false,
      // The console, as `pnpm start` has it: a built-in client whose secret the exchange reads from the data dir.
      consoleClient: loadOrCreateConsoleClient(dataDir, { issuer: idpUrl, exchange: exchangeUrl }),
      ...(options.idTokenTtl ? { ttl: { idToken: options.idTokenTtl } } : {}),
    })
    const demo = await ensureDemoAccount(idpStore, dataDir)
    await idp.listen()
    closers.push(() => idp.close())

    await ensureBroker(exchangeStore, { id: 'demo', url: 'mqtt://127.0.0.1' })
    const exchange = createExchange({
      store: exchangeStore,
      // As `pnpm start`: accounts, client id owners and cut-offs are the IdP's.
      identityStore: idpStore,
      issuer: exchangeUrl,
      port: exchangePort,
      idp: { issuer: idpUrl, clientIds: options.idpClientIds ?? ['mqtt-oidc-cli'] },
      trustedIssuers: options.trustedIssuers,
      logLevel: 'silent',
      console: { client: readConsoleClient(join(dataDir, 'console-client.json')) },
      ...(options.sessionHeartbeatSeconds ? { sessionHeartbeatSeconds: options.sessionHeartbeatSeconds } : {}),
      ...(options.maxLifetime ? { maxLifetime: options.maxLifetime } : {}),
      ...(options.keepaliveMs ? { keepaliveMs: options.keepaliveMs } : {}),
    })
    await exchange.listen()
    closers.push(() => exchange.close())

    const feedCredentialFile = async (brokerId: string): Promise<string> => {
      const file = join(dataDir, 'feed-credentials', brokerId)
      await ensureFeedCredential(exchangeStore, brokerId, file)
      return file
    }
    const startBroker = async (brokerId: string) => {
      const broker = createBroker({
        brokerId, exchangeUrl, host: '127.0.0.1', mqttPort: 0, wsPort: 0, logLevel: 'silent', feedCredentialFile: await feedCredentialFile(brokerId),
        ...(options.feedMaxStaleMs ? { feedMaxStaleMs: options.feedMaxStaleMs } : {}),
      })
      const { mqttUrl, mqttPort } = await broker.listen()
      return { mqttUrl, mqttPort, close: () => broker.close() }
    }
    const broker = await startBroker('demo')
    closers.push(() => broker.close())

    return {
      dataDir, configDir, idpUrl, exchangeUrl, mqttUrl: broker.mqttUrl, mqttPort: broker.mqttPort, brokerId: 'demo',
      demo, idpStore, exchangeStore, feedCredentialFile,
      async addAccount(username, password, clientIds, groups = []) { await createAccount(idpStore, { username, password, clientIds, groups }) },
      startBroker,
      async close() {
        for (const close of closers.reverse()) await close().catch(() => {})
        rmSync(dataDir, { recursive: true, force: true })
      },
    }
  } catch (err) {
    for (const close of closers.reverse()) await close().catch(() => {})
    rmSync(dataDir, { recursive: true, force: true })
    throw err
  }
}
