/**
 * `npm start`: the whole stack in one process on its embedded defaults:
 * the IdP, the token exchange and the aedes broker, with SQLite state and
 * signing keys under ./.data (or one PostgreSQL when MQTT_OIDC_STORE=postgres://...).
 * Each part reads its own MQTT_OIDC_<APP>_* variables through its own config
 * schema and starts through its own start function, exactly as when it runs
 * alone; this file only puts them in one process and prints the banner.
 */
import { join } from 'node:path'
import { pino, type Logger } from 'pino'
import { PinoPretty } from 'pino-pretty'
import { ConfigError, LOG_REDACTION, PORT_BASE_VARIABLE, envSchemas, runService, stackPorts, stackUrls } from '@mqtt-oidc/core'
import { loadConfig as loadIdpConfig } from '@mqtt-oidc/idp/config'
import * as exchangeApp from '@mqtt-oidc/exchange'
import * as brokerApp from '@mqtt-oidc/broker'

runService('mqtt-oidc', async (service) => {
  const configs = loadConfigs(process.env)
  const { idp: idpConfig, exchange: exchangeConfig, broker: brokerConfig } = configs
  const level = process.env.LOG_LEVEL ?? 'info'
  // A person at a terminal gets readable lines; pipes and files get JSON (the same redaction either way).
  const root = process.stdout.isTTY && process.env.LOG_FORMAT !== 'json'
    ? pino({ level, ...LOG_REDACTION }, PinoPretty({ colorize: true, singleLine: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname', messageKey: 'msg' }))
    : pino({ level, ...LOG_REDACTION })
  service.useLog((lvl, msg, fields) => root[lvl](fields ?? {}, msg))
  const log = (name: string): Logger => root.child({ app: name })
  // Loaded once the configuration is known good: oidc-provider prints a notice when it loads.
  const idpApp = await import('@mqtt-oidc/idp')
  const warnings = [idpConfig.devWarning, exchangeConfig.devWarning, ...brokerConfig.warnings].filter((w): w is string => Boolean(w))
  if (warnings.length > 0) root.warn(`development only: plain HTTP on loopback and a demo account; set NODE_ENV=production to refuse them (${warnings.length} notes)`)

  const { idp, store: idpStore, demo, port: idpPort } = await idpApp.startIdp(idpConfig, { logger: log('idp'), service })
  const { exchange, url: exchangeListen } = await exchangeApp.startExchange(exchangeConfig, {
    logger: log('exchange'),
    service,
    // The IdP's accounts, client id owners and cut-offs (disables): the same store on PostgreSQL, idp.sqlite here.
    identityStore: idpStore,
    // The embedded broker's: created on first start, its feed credential where its config reads it.
    demoBroker: { id: brokerConfig.brokerId, feedCredentialFile: brokerConfig.feedCredentialFile },
  })
  const { addresses: { mqttUrl, wsUrl } } = await brokerApp.startBroker(brokerConfig, { logger: log('broker'), service })

  const dataDir = idpConfig.dataDir
  const mqtt = new URL(mqttUrl)
  // Where a client on this machine reaches the broker: the bound port, on localhost when it listens there or on every address.
  const mqttHost = ['0.0.0.0', '[::]', '127.0.0.1', '[::1]'].includes(mqtt.hostname) ? 'localhost' : mqtt.hostname
  const cli = cliEnvironment(process.env.MQTT_OIDC_PORT_BASE, { issuer: idp.issuer, exchange: exchange.issuer, mqtt: `mqtt://${mqttHost}:${mqtt.port}` })
  const lines = [
    '',
    'mqtt-oidc is running (Ctrl-C stops it):',
    `  OIDC server     ${idp.issuer}   (listening on ${idpConfig.host}:${idpPort})`,
    `  token exchange  ${exchange.issuer}   (listening on ${new URL(exchangeListen).host}; JWKS ${exchange.issuer}/.well-known/jwks.json)`,
    `  MQTT broker     ${mqttUrl}   ${wsUrl}   (broker id "${brokerConfig.brokerId}")`,
    `  console         ${exchange.issuer}/console   (accounts in ${idpConfig.adminGroup}: pnpm mqtt-oidc users add <name> --group ${idpConfig.adminGroup})`,
    `  state           ${idpConfig.store ? 'PostgreSQL (MQTT_OIDC_STORE)' : dataDir}`,
  ]
  if (demo) {
    // Each sign-in of a per-login account gets its own client id (the first the account's, later ones
    // derived from it while the first is held), so the hints below name the one `login` prints, never a guess.
    const signIns = `MQTT client id: ${demo.clientId} for the first sign-in, ${demo.clientId}-<10 more characters> for each further one`
    lines.push(demo.created
      ? `\nDemo account, shown once (also in ${join(dataDir, idpApp.DEMO_ACCOUNT_FILE)}, mode 0600):\n  username: ${demo.username}\n  password: ${demo.password}\n  ${signIns}`
      : `\nDemo account: ${demo.username} (password in ${join(dataDir, idpApp.DEMO_ACCOUNT_FILE)}; ${signIns})`)
  }
  lines.push(
    '',
    'Next, in another terminal (see README "Try it"):',
    ...cli.map((assignment) => `  export ${assignment}`),
    '  pnpm mqtt-oidc login --device          # says which MQTT client id this sign-in got',
    `  pnpm mqtt-oidc sub --broker ${brokerConfig.brokerId} -t 'devices/<that client id>/#'`,
    `  pnpm mqtt-oidc broker issue ${brokerConfig.brokerId} --client-id backend-1 --expiration 1h`,
    `  mosquitto_pub -h ${mqttHost} -p ${mqtt.port} -i backend-1 -u backend-1 -P <token> -t 'devices/<that client id>/cmd' -m reboot`,
    '',
  )
  process.stdout.write(`${lines.join('\n')}\n`)
})

/**
 * The variables a shell needs for the CLI to reach this stack: the port base
 * when one is set (the CLI derives its defaults from it, as the apps do),
 * and the CLI's own variable for each URL that those defaults still miss
 * (a part moved on its own, or a port picked by the system).
 */
function cliEnvironment(portBase: string | undefined, actual: { issuer: string; exchange: string; mqtt: string }): string[] {
  const base = portBase === undefined || portBase === '' ? undefined : envSchemas.portBase().parse(portBase)
  const defaults = stackUrls(stackPorts(base))
  return [
    ...(base === undefined ? [] : [`${PORT_BASE_VARIABLE}=${base}`]),
    ...(actual.issuer === defaults.idp ? [] : [`MQTT_OIDC_CLI_ISSUER=${actual.issuer}`]),
    ...(actual.exchange === defaults.exchange ? [] : [`MQTT_OIDC_CLI_EXCHANGE_URL=${actual.exchange}`]),
    ...(actual.mqtt === defaults.mqtt ? [] : [`MQTT_OIDC_CLI_BROKER_URL=${actual.mqtt}`]),
  ]
}

/**
 * The three apps' configurations; when any is invalid, every problem of
 * every app at once (each names its variable), in the one shape.
 */
function loadConfigs(env: NodeJS.ProcessEnv) {
  const problems: string[] = []
  const read = <T>(load: (e: NodeJS.ProcessEnv) => T): T | undefined => {
    try {
      return load(env)
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      problems.push(...err.problems.filter((p) => !problems.includes(p)))
      return undefined
    }
  }
  const idp = read(loadIdpConfig)
  const exchange = read(exchangeApp.loadConfig)
  const broker = read(brokerApp.loadBrokerConfig)
  if (!idp || !exchange || !broker) throw new ConfigError('mqtt-oidc', problems)
  return { idp, exchange, broker }
}
