/** How the exchange serves its web console (ExchangeOptions.console); every default documented. */
export interface ConsoleOptions {
  /**
   * The console's OAuth client at our IdP (`mqtt-oidc-console` and its secret): read before every
   * sign-in and token refresh, so a new secret needs no restart. Usually reads
   * `<dataDir>/console-client.json`, which the IdP writes. undefined: the console says it is not set up.
   */
  readonly client: () => ConsoleClient | undefined
  /**
   * Where the exchange sends its requests to the IdP (discovery, token, revocation) when the IdP's
   * issuer URL is not reachable from here (a compose network: `http://idp:4000`). Default: the issuer.
   */
  readonly idpFetchFrom?: string | undefined
  /** A console session lasts at most this long, seconds. Default 28800 (8 h). */
  readonly sessionSeconds?: number | undefined
  /** A console session unused this long ends, seconds. Default 3600 (1 h). */
  readonly idleSeconds?: number | undefined
}

export interface ConsoleClient {
  readonly clientId: string
  readonly clientSecret: string
}

export const DEFAULT_CONSOLE_SESSION_SECONDS = 8 * 3600
export const DEFAULT_CONSOLE_IDLE_SECONDS = 3600
