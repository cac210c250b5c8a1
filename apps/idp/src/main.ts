import { join } from 'node:path'
import { runService } from '@mqtt-oidc/core'
import { loadConfig } from './config.js'
import { createIdpLogger } from './create-idp-logger.js'
import { DEMO_ACCOUNT_FILE } from './ensure-demo-account.js'
import { ADMIN_CLIENT_FILE } from './load-or-create-admin-client.js'

/** Runs the IdP standalone: `pnpm --filter @mqtt-oidc/idp start`. Configuration: MQTT_OIDC_IDP_* (see config.ts). */
runService('idp', async (service) => {
  const config = loadConfig()
  const log = createIdpLogger(config.logLevel)
  service.useLog((level, msg, fields) => log[level](fields ?? {}, msg))
  if (config.devWarning) log.warn(config.devWarning)
  // Loaded once the configuration is known good: oidc-provider prints a notice when it loads.
  const { startIdp } = await import('./start-idp.js')
  const { idp, port, demo } = await startIdp(config, { logger: log, service })
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
})
