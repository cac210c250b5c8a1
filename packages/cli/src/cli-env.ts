import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * The environment as the CLI sees it. This file is the only place in the
 * CLI that reads `process.env`: the client library takes every setting as an
 * argument (libraries never read the environment), and the CLI is the
 * application boundary where a person's shell configures it.
 * Everything else gets a `CliEnv` value, so tests can pass their own.
 */
export interface CliEnv {
  /** MQTT_OIDC_CLI_ISSUER: default for --issuer. */
  readonly issuer?: string | undefined
  /** MQTT_OIDC_CLI_EXCHANGE_URL: default for --exchange. */
  readonly exchangeUrl?: string | undefined
  /** MQTT_OIDC_CLI_BROKER_URL: default for pub/sub --url. */
  readonly brokerUrl?: string | undefined
  /** MQTT_OIDC_CLI_ISSUER_FETCH_FROM: where the issuer's requests go when its URL is not reachable from here (e.g. `http://idp:4000` in a compose network); the issuer URL stays what is checked. */
  readonly issuerFetchFrom?: string | undefined
  /** MQTT_OIDC_CLI_EXCHANGE_FETCH_FROM: the same for the exchange (e.g. `http://exchange:4001`). */
  readonly exchangeFetchFrom?: string | undefined
  /** MQTT_OIDC_DATA_DIR: default for --data-dir (the same variable `pnpm start` uses). */
  readonly dataDir?: string | undefined
  /** Default for --config-dir: MQTT_OIDC_CLI_CONFIG_DIR, else $XDG_CONFIG_HOME/mqtt-oidc, else ~/.config/mqtt-oidc. */
  readonly configDir: string
  /** True when a graphical session is there to open a browser in (DISPLAY or WAYLAND_DISPLAY set, or macOS / Windows). */
  readonly canOpenBrowser?: boolean | undefined
}

/** Every environment variable the CLI reads (besides XDG_CONFIG_HOME, HOME and the display ones). */
export const CLI_ENVIRONMENT_VARIABLES = Object.freeze([
  'MQTT_OIDC_CLI_ISSUER',
  'MQTT_OIDC_CLI_EXCHANGE_URL',
  'MQTT_OIDC_CLI_BROKER_URL',
  'MQTT_OIDC_CLI_ISSUER_FETCH_FROM',
  'MQTT_OIDC_CLI_EXCHANGE_FETCH_FROM',
  'MQTT_OIDC_CLI_CONFIG_DIR',
  'MQTT_OIDC_DATA_DIR',
] as const)

/** Reads the CLI's environment variables once; empty values count as unset. */
export function readCliEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  const get = (name: (typeof CLI_ENVIRONMENT_VARIABLES)[number] | 'XDG_CONFIG_HOME' | 'DISPLAY' | 'WAYLAND_DISPLAY'): string | undefined => {
    const value = env[name]?.trim()
    return value === undefined || value === '' ? undefined : value
  }
  const xdg = get('XDG_CONFIG_HOME')
  return {
    issuer: get('MQTT_OIDC_CLI_ISSUER'),
    exchangeUrl: get('MQTT_OIDC_CLI_EXCHANGE_URL'),
    brokerUrl: get('MQTT_OIDC_CLI_BROKER_URL'),
    issuerFetchFrom: get('MQTT_OIDC_CLI_ISSUER_FETCH_FROM'),
    exchangeFetchFrom: get('MQTT_OIDC_CLI_EXCHANGE_FETCH_FROM'),
    dataDir: get('MQTT_OIDC_DATA_DIR'),
    configDir: get('MQTT_OIDC_CLI_CONFIG_DIR') ?? join(xdg ?? join(homedir(), '.config'), 'mqtt-oidc'),
    canOpenBrowser: process.platform === 'darwin' || process.platform === 'win32' || get('DISPLAY') !== undefined || get('WAYLAND_DISPLAY') !== undefined,
  }
}
