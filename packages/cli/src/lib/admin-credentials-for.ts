import type { Command } from 'commander'
import type { AdminCredentials } from '@mqtt-oidc/client'
import { readAdminCredentials } from '@mqtt-oidc/client'
import type { CliIo } from './cli-io.js'
import { resolveSettings } from './settings.js'

/**
 * The admin client of `<data-dir>/admin-client.json`, with the URLs given
 * by --issuer / --exchange (or their env vars) in place of the ones in it.
 */
export function adminCredentialsFor(cmd: Command, io: CliIo): AdminCredentials {
  const s = resolveSettings(cmd, io.env)
  const creds = readAdminCredentials(s.dataDir)
  return {
    ...creds,
    issuer: s.explicit.issuer ? s.issuer : creds.issuer,
    exchange: s.explicit.exchangeUrl ? s.exchangeUrl : creds.exchange,
  }
}
