import { join } from 'node:path'
import * as oidc from 'openid-client'
import { AdminApiError, type AdminCredentials } from '@mqtt-oidc/client'
import { CliError } from './cli-error.js'

/**
 * Wraps an admin API client so that a refused admin credential says what is
 * wrong and where it comes from, in place of the OAuth library's "server
 * responded with a challenge in the WWW-Authenticate HTTP Header": the IdP
 * refusing the admin client's secret (a data dir of another stack, or one
 * started again with new state) or the admin API refusing its token.
 */
export function explainAdminErrors<T extends object>(client: T, creds: AdminCredentials, dataDir: string): T {
  const file = join(dataDir, 'admin-client.json')
  const explain = (err: unknown): unknown => {
    const refusedByIdp =
      (err instanceof oidc.WWWAuthenticateChallengeError && err.status === 401) ||
      (err instanceof oidc.ResponseBodyError && (err.error === 'invalid_client' || err.status === 401))
    if (refusedByIdp) {
      return new CliError(
        `the IdP at ${creds.issuer} refused the admin client "${creds.clientId}" of ${file}: its secret does not match that server's ` +
          "(another stack's data dir, or the stack was set up again?). Point --data-dir (env MQTT_OIDC_DATA_DIR) at the data dir of the stack at that address, " +
          'or --issuer (env MQTT_OIDC_CLI_ISSUER) at the IdP that data dir belongs to',
      )
    }
    if (err instanceof AdminApiError && err.status === 401) {
      return new CliError(
        `the admin API refused the admin token of ${file} (${err.error}${err.error_description ? `: ${err.error_description}` : ''}): ` +
          'the IdP and the exchange there do not belong together; check --issuer and --exchange (env MQTT_OIDC_CLI_ISSUER, MQTT_OIDC_CLI_EXCHANGE_URL) or --data-dir',
      )
    }
    return err
  }
  return new Proxy(client, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver)
      if (typeof value !== 'function') return value
      return async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
        } catch (err) {
          throw explain(err)
        }
      }
    },
  })
}
