import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import { openStore, withStartupLock } from '@mqtt-oidc/store'
import { ConfigError, loadConfig } from './config.js'
import { createIdp, REDACT_PATHS } from './create-idp.js'
import { DEMO_ACCOUNT_FILE, ensureDemoAccount } from './ensure-demo-account.js'
import { ADMIN_CLIENT_FILE, loadOrCreateAdminClient } from './load-or-create-admin-client.js'
import { loadOrCreateConsoleClient } from './load-or-create-console-client.js'
import { loadOrCreateCookieKeys } from './load-or-create-cookie-keys.js'

/** Runs the IdP standalone: `pnpm --filter @mqtt-oidc/idp start`. */
async function main(): Promise<void> {
  const config = loadConfig()
  const log = pino({ name: 'idp', level: config.logLevel, redact: REDACT_PATHS })
  if (config.devWarning) log.warn(config.devWarning)
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const store = await openStore({ url: config.store, dataDir: config.dataDir, file: 'idp.sqlite' })
  const adminClient = loadOrCreateAdminClient(config.dataDir, { issuer: config.issuer, exchange: config.exchangeUrl })
  const idp = createIdp({
    store,
    issuer: config.issuer,
    host: config.host,
    port: config.port,
    exchangeUrl: config.exchangeUrl,
    adminClient,
    cookieKeys: loadOrCreateCookieKeys(config.dataDir),
    devicePollInterval: config.devicePollInterval,
    ttl: { idToken: config.idTokenTtl },
    trustedProxies: config.trustedProxies,
    dynamicRegistration: config.dynamicRegistration,
    docsUrl: config.docsUrl,
    adminGroup: config.adminGroup,
    consoleClient: loadOrCreateConsoleClient(config.dataDir, { issuer: config.issuer, exchange: config.exchangeUrl }),
    logger: log,
  })
  const demo = config.demoAccount ? await ensureDemoAccount(store, config.dataDir) : undefined
  const { port } = await withStartupLock(config.store, 'idp-start', () => idp.listen())
  log.info({ issuer: idp.issuer, store: config.store ? 'postgresql' : 'sqlite', listen: `http://${config.host}:${port}`, adminClient: join(config.dataDir, ADMIN_CLIENT_FILE) }, 'idp ready')

  if (demo) {
    const file = join(config.dataDir, DEMO_ACCOUNT_FILE)
    if (demo.created) {
      // Printed once, on stdout rather than the log: the log never carries passwords.
      process.stdout.write(`\nDemo account (development only, stored in ${file}):\n  username: ${demo.username}\n  password: ${demo.password}\n  MQTT client id: ${demo.clientId}\n\n`)
    } else {
      log.info({ username: demo.username, file }, 'demo account exists')
    }
  }
  log.info(`try: pnpm mqtt-oidc login --device (sign in at ${idp.issuer}/device)`)

  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'stopping')
    idp.close()
      .then(() => store.close())
      .then(() => process.exit(0), (err: unknown) => {
        log.error({ err }, 'stop failed')
        process.exit(1)
      })
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message)
  else console.error('idp failed to start:', err)
  process.exit(1)
})
