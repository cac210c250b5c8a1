/**
 * `pnpm start`: the whole stack in one process on its embedded defaults:
 * the IdP, the token exchange and the aedes broker, with SQLite state and
 * signing keys under ./.data (or one PostgreSQL when MQTT_OIDC_STORE=postgres://...). Each part reads its own MQTT_OIDC_<APP>_*
 * variables through its own config schema, exactly as when it runs alone.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { pino, type Logger } from 'pino'
import { PinoPretty } from 'pino-pretty'
import type { Store } from '@mqtt-oidc/core'
import { openStore, withStartupLock } from '@mqtt-oidc/store'
import * as idpApp from '@mqtt-oidc/idp'
import * as exchangeApp from '@mqtt-oidc/exchange'
import * as brokerApp from '@mqtt-oidc/broker'

interface Part { name: string; close(): Promise<void> }

async function main(): Promise<void> {
  const idpConfig = idpApp.loadConfig(process.env)
  const exchangeConfig = exchangeApp.loadConfig(process.env)
  const brokerConfig = brokerApp.loadBrokerConfig(process.env)
  const level = process.env.LOG_LEVEL ?? 'info'
  const redact = [...new Set([...idpApp.REDACT_PATHS, ...exchangeApp.REDACT_PATHS, ...brokerApp.LOG_REDACT])]
  // A person at a terminal gets readable lines; pipes and files get JSON (the same redaction either way).
  const root = process.stdout.isTTY && process.env.LOG_FORMAT !== 'json'
    ? pino({ level, redact }, PinoPretty({ colorize: true, singleLine: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname', messageKey: 'msg' }))
    : pino({ level, redact })
  const log = (name: string): Logger => root.child({ app: name })
  const warnings = [idpConfig.devWarning, exchangeConfig.devWarning, ...brokerConfig.warnings].filter((w): w is string => Boolean(w))
  if (warnings.length > 0) root.warn(`development only: plain HTTP on loopback and a demo account; set NODE_ENV=production to refuse them (${warnings.length} notes)`)

  const parts: Part[] = []
  const stores: Store[] = []
  let stopping = false
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    root.info({ signal }, 'stopping')
    for (const part of parts.reverse()) await part.close().catch((err: unknown) => root.error({ err, part: part.name }, 'close failed'))
    for (const store of stores) await store.close()
    process.exit(0)
  }
  process.once('SIGINT', () => void stop('SIGINT'))
  process.once('SIGTERM', () => void stop('SIGTERM'))

  const dataDir = idpConfig.dataDir
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })

  const idpStore = await openStore({ url: idpConfig.store, dataDir, file: 'idp.sqlite' })
  stores.push(idpStore)
  const adminClient = idpApp.loadOrCreateAdminClient(dataDir, { issuer: idpConfig.issuer, exchange: idpConfig.exchangeUrl })
  const idp = idpApp.createIdp({
    store: idpStore,
    issuer: idpConfig.issuer,
    host: idpConfig.host,
    port: idpConfig.port,
    exchangeUrl: idpConfig.exchangeUrl,
    adminClient,
    cookieKeys: idpApp.loadOrCreateCookieKeys(dataDir),
    devicePollInterval: idpConfig.devicePollInterval,
    ttl: { idToken: idpConfig.idTokenTtl },
    trustedProxies: idpConfig.trustedProxies,
    dynamicRegistration: idpConfig.dynamicRegistration,
    docsUrl: idpConfig.docsUrl,
    adminGroup: idpConfig.adminGroup,
    consoleClient: idpApp.loadOrCreateConsoleClient(dataDir, { issuer: idpConfig.issuer, exchange: idpConfig.exchangeUrl }),
    logger: log('idp'),
  })
  const demo = idpConfig.demoAccount ? await idpApp.ensureDemoAccount(idpStore, dataDir) : undefined
  // Other instances may be starting on the same PostgreSQL: one creates the keys, the rest load them.
  await withStartupLock(idpConfig.store, 'idp-start', () => idp.listen())
  parts.push({ name: 'idp', close: () => idp.close() })

  const exchangeStore = await openStore({ url: exchangeConfig.store, dataDir: exchangeConfig.dataDir, file: 'exchange.sqlite' })
  stores.push(exchangeStore)
  await exchangeApp.ensureBroker(exchangeStore, { id: brokerConfig.brokerId, url: exchangeConfig.demoBrokerUrl })
  for (const broker of exchangeConfig.bootstrapBrokers) await exchangeApp.ensureBroker(exchangeStore, broker)
  const exchange = exchangeApp.createExchange({
    store: exchangeStore,
    // The IdP's accounts, client id owners and cut-offs (disables): the same store on PostgreSQL, idp.sqlite here.
    identityStore: idpStore,
    ...exchangeApp.exchangeOptionsFromConfig(exchangeConfig),
    logger: log('exchange'),
  })
  await withStartupLock(exchangeConfig.store, 'exchange-start', async () => {
    // the embedded broker's feed credential goes where its config reads it; other bootstrapped brokers' to the exchange's directory
    await exchangeApp.ensureFeedCredential(exchangeStore, brokerConfig.brokerId, brokerConfig.feedCredentialFile)
    await exchangeApp.ensureFeedCredentials(exchangeStore, exchangeConfig.bootstrapBrokers.map((b) => b.id), exchangeConfig.feedCredentialDir, log('exchange'))
    return exchange.listen()
  })
  parts.push({ name: 'exchange', close: () => exchange.close() })

  const broker = brokerApp.createBroker({ ...brokerConfig, logger: log('broker') })
  parts.push({ name: 'broker', close: () => broker.close() })
  const { mqttUrl, wsUrl } = await broker.listen()

  const lines = [
    '',
    'mqtt-oidc is running (Ctrl-C stops it):',
    `  OIDC server     ${idp.issuer}`,
    `  token exchange  ${exchange.issuer}   (JWKS ${exchange.issuer}/.well-known/jwks.json)`,
    `  MQTT broker     ${mqttUrl}   ${wsUrl}   (broker id "${brokerConfig.brokerId}")`,
    `  console         ${exchange.issuer}/console   (accounts in ${idpConfig.adminGroup}: pnpm mqtt-oidc users add <name> --group ${idpConfig.adminGroup})`,
    `  state           ${idpConfig.store ? 'PostgreSQL (MQTT_OIDC_STORE)' : dataDir}`,
  ]
  if (demo) {
    lines.push(demo.created
      ? `\nDemo account, shown once (also in ${join(dataDir, idpApp.DEMO_ACCOUNT_FILE)}, mode 0600):\n  username: ${demo.username}\n  password: ${demo.password}\n  MQTT client id: ${demo.clientId}`
      : `\nDemo account: ${demo.username} (password in ${join(dataDir, idpApp.DEMO_ACCOUNT_FILE)})`)
  }
  lines.push(
    '',
    'Next, in another terminal (see README "Try it"):',
    '  pnpm mqtt-oidc login --device',
    `  pnpm mqtt-oidc sub --broker ${brokerConfig.brokerId} -t 'devices/${demo?.clientId ?? '<clientid>'}/#'`,
    `  pnpm mqtt-oidc broker issue ${brokerConfig.brokerId} --client-id backend-1 --expiration 1h`,
    `  mosquitto_pub -h localhost -p 1883 -i backend-1 -u backend-1 -P <token> -t devices/${demo?.clientId ?? '<clientid>'}/cmd -m reboot`,
    '',
  )
  process.stdout.write(`${lines.join('\n')}\n`)
}

main().catch((err: unknown) => {
  const configErrors = [idpApp.ConfigError, exchangeApp.ConfigError, brokerApp.BrokerConfigError]
  if (configErrors.some((E) => err instanceof E)) process.stderr.write(`${(err as Error).message}\n`)
  else process.stderr.write(`mqtt-oidc failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
