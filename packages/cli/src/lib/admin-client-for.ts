import type { Command } from 'commander'
import { createAdminClient, type AdminClient } from '@mqtt-oidc/client'
import { adminCredentialsFor } from './admin-credentials-for.js'
import type { CliIo } from './cli-io.js'
import { resolveSettings } from './settings.js'
import { explainAdminErrors } from './explain-admin-errors.js'

/** The exchange's admin API client for the command being run: the admin client of <data-dir>/admin-client.json, --issuer/--exchange and the fetch-from URLs applied. */
export function adminClientFor(cmd: Command, io: CliIo): AdminClient {
  const s = resolveSettings(cmd, io.env)
  const creds = adminCredentialsFor(cmd, io)
  return explainAdminErrors(createAdminClient({ adminCredentials: creds, fetchFrom: s.fetchFrom }), creds, s.dataDir)
}
