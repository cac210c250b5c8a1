import type { Command } from 'commander'
import { createIdpAdminClient, type IdpAdminClient } from '@mqtt-oidc/client'
import { adminCredentialsFor } from './admin-credentials-for.js'
import type { CliIo } from './cli-io.js'
import { resolveSettings } from './settings.js'

/** The IdP's admin API client for the command being run: the admin client of <data-dir>/admin-client.json, --issuer and the fetch-from URLs applied. */
export function idpAdminFor(cmd: Command, io: CliIo): IdpAdminClient {
  return createIdpAdminClient({ adminCredentials: adminCredentialsFor(cmd, io), fetchFrom: resolveSettings(cmd, io.env).fetchFrom })
}
