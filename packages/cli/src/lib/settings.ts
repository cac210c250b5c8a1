import type { Command } from 'commander'
import type { FetchFrom } from '@mqtt-oidc/client'
import type { CliEnv } from '../cli-env.js'

/** Built-in defaults: the embedded stack of `pnpm start` (localhost:4000 and :4001, ./.data). */
export const DEFAULTS = Object.freeze({
  issuer: 'http://localhost:4000',
  exchangeUrl: 'http://localhost:4001',
  clientId: 'mqtt-oidc-cli',
  dataDir: './.data',
  brokerUrl: 'mqtt://localhost:1883',
})

/** The settings every command works from, after flags > environment > defaults. */
export interface Settings {
  readonly issuer: string
  readonly exchangeUrl: string
  readonly clientId: string
  readonly dataDir: string
  readonly configDir: string
  /** Other addresses for the issuer's and the exchange's requests (MQTT_OIDC_CLI_ISSUER_FETCH_FROM, MQTT_OIDC_CLI_EXCHANGE_FETCH_FROM). */
  readonly fetchFrom: FetchFrom
  /** True when --issuer / --exchange were given on the command line or in the environment (admin: they override admin-client.json). */
  readonly explicit: { readonly issuer: boolean; readonly exchangeUrl: boolean }
}

const withClientId = new WeakSet<Command>()

/**
 * Adds the global options to `cmd`. They are on the root (before the
 * subcommand) and on every leaf command (after it), because the root uses
 * positional options: `broker issue --client-id` means an MQTT client id,
 * not the OIDC client, and must not be swallowed by the root.
 */
export function addGlobalOptions(cmd: Command, options: { clientId?: boolean } = {}): Command {
  cmd
    .option('--issuer <url>', `OIDC issuer URL (env MQTT_OIDC_CLI_ISSUER, default ${DEFAULTS.issuer})`)
    .option('--exchange <url>', `token exchange URL (env MQTT_OIDC_CLI_EXCHANGE_URL, default ${DEFAULTS.exchangeUrl})`)
  if (options.clientId !== false) {
    cmd.option('--client-id <id>', `OIDC client id of the CLI (default ${DEFAULTS.clientId})`)
    withClientId.add(cmd)
  }
  return cmd
    .option('--data-dir <dir>', `data dir of the stack, for admin-client.json (env MQTT_OIDC_DATA_DIR, default ${DEFAULTS.dataDir})`)
    .option('--config-dir <dir>', 'where the login is cached (env MQTT_OIDC_CLI_CONFIG_DIR, default $XDG_CONFIG_HOME/mqtt-oidc or ~/.config/mqtt-oidc)')
}

/** Resolves the global options for the command being run: its own flags, then its ancestors', then env, then defaults. */
export function resolveSettings(cmd: Command, env: CliEnv): Settings {
  const chain: Command[] = []
  for (let c: Command | null = cmd; c; c = c.parent) chain.push(c)
  const flag = (name: string): string | undefined => {
    for (const c of chain) {
      if (name === 'clientId' && !withClientId.has(c)) continue
      const value: unknown = c.opts()[name]
      if (typeof value === 'string') return value
    }
    return undefined
  }
  const issuer = flag('issuer') ?? env.issuer
  const exchangeUrl = flag('exchange') ?? env.exchangeUrl
  return {
    issuer: issuer ?? DEFAULTS.issuer,
    exchangeUrl: exchangeUrl ?? DEFAULTS.exchangeUrl,
    clientId: flag('clientId') ?? DEFAULTS.clientId,
    dataDir: flag('dataDir') ?? env.dataDir ?? DEFAULTS.dataDir,
    configDir: flag('configDir') ?? env.configDir,
    fetchFrom: { issuer: env.issuerFetchFrom, exchange: env.exchangeFetchFrom },
    explicit: { issuer: issuer !== undefined, exchangeUrl: exchangeUrl !== undefined },
  }
}

/** Exit codes scripts can rely on (also `EXIT` in run-cli.ts). */
export const EXIT_CODES_HELP = 'Exit codes: 0 ok; 1 usage error, refusal (exchange, broker, ACL) or failure; 2 login required (run `mqtt-oidc login --device`).'

/** Appends the exit codes to a command's --help. */
export function addExitCodesHelp(cmd: Command): Command {
  return cmd.addHelpText('after', `\n${EXIT_CODES_HELP}`)
}
