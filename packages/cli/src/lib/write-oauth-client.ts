import type { OAuthClientRecord } from '@mqtt-oidc/client'
import { writeJson, type CliIo } from './cli-io.js'
import { localTime, wantsJson, writeTable } from './output.js'

/** Grant types by the short names `--grant-type` takes. */
const SHORT_GRANTS: Readonly<Record<string, string>> = {
  authorization_code: 'code',
  'urn:ietf:params:oauth:grant-type:device_code': 'device',
  refresh_token: 'refresh',
}

/** A grant type as `--grant-type` names it (`code`, `device`, `refresh`); others as they are. */
export function shortGrant(grant: string): string {
  return SHORT_GRANTS[grant] ?? grant
}

/**
 * An OAuth client as `clients add|show|update` print it: JSON (the admin
 * API's record, client_secret included when the answer has one) with --json
 * or into a pipe; at a terminal one `field  value` line each, the secret last.
 */
export function writeOAuthClient(io: CliIo, client: OAuthClientRecord, opts: { json?: boolean }): void {
  if (wantsJson(opts, io)) return writeJson(io.stdout, client)
  const list = (items: readonly string[]): string | undefined => (items.length === 0 ? undefined : items.join(', '))
  writeTable(
    io.stdout,
    ['FIELD', 'VALUE'],
    [
      ['client id', client.client_id],
      ['name', client.client_name],
      ['type', client.application_type],
      ['auth method', client.token_endpoint_auth_method],
      ['grants', list(client.grant_types.map(shortGrant))],
      ['redirect uris', list(client.redirect_uris)],
      ['post-logout redirect uris', list(client.post_logout_redirect_uris)],
      ['scope', client.scope],
      ['id token alg', client.id_token_signed_response_alg],
      ['built in', client.built_in ? 'yes' : 'no'],
      ['created', localTime(client.created_at)],
      ['updated', localTime(client.updated_at)],
      ...(client.client_secret === undefined ? [] : [['client secret', client.client_secret] as const]),
    ],
  )
}
