import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import type { Store } from '@mqtt-oidc/core'
import { createSqliteStore, openStore } from '@mqtt-oidc/store'
import { CliError } from '../lib/cli-error.js'
import type { CliIo } from '../lib/cli-io.js'
import { resolveSettings } from '../lib/settings.js'

/**
 * Where the IdP keeps accounts and signing keys: the shared PostgreSQL store
 * (`--store`, else env MQTT_OIDC_STORE, the variable the IdP itself reads),
 * else the embedded `<data-dir>/idp.sqlite`.
 */
export interface IdpStoreLocation {
  readonly dataDir: string
  readonly store?: string | undefined
}

/** Adds `--store <url>` to an accounts/keys command. */
export function addStoreOption(cmd: Command): Command {
  return cmd.option('--store <url>', 'the IdP\'s shared store, postgres://... (env MQTT_OIDC_STORE; default: the embedded <data-dir>/idp.sqlite)')
}

/** The store location for the command being run: --store, env MQTT_OIDC_STORE, then the data dir. */
export function idpStoreLocation(cmd: Command, io: CliIo): IdpStoreLocation {
  const flag: unknown = cmd.opts().store
  return { dataDir: resolveSettings(cmd, io.env).dataDir, store: typeof flag === 'string' ? flag : io.env.store }
}

/**
 * Opens the IdP's store directly. Accounts and signing keys have no HTTP
 * admin API: they are the IdP operator's business, and whoever may read the
 * data dir or the database already holds the admin secret and every key.
 * Several processes share the store (SQLite in WAL mode, or PostgreSQL):
 * the IdP reads accounts per request, so account changes apply at once, and
 * every IdP instance picks up signing key changes within a minute.
 */
export async function openIdpStore(location: IdpStoreLocation): Promise<Store> {
  if (location.store !== undefined) {
    if (!/^postgres(ql)?:\/\/./.test(location.store)) throw new CliError('--store / MQTT_OIDC_STORE must be a postgres:// URL (unset: the embedded SQLite store)')
    return openStore({ url: location.store, dataDir: location.dataDir, file: 'idp.sqlite' })
  }
  const path = join(location.dataDir, 'idp.sqlite')
  if (!existsSync(path)) throw new CliError(`no IdP database at ${path}: run \`pnpm start\` once, or pass --data-dir (or --store for a shared PostgreSQL store)`)
  return createSqliteStore(path)
}

/** Runs `work` with the store open, closing it whatever happens. */
export async function withIdpStore<T>(location: IdpStoreLocation, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openIdpStore(location)
  try {
    return await work(store)
  } finally {
    await store.close()
  }
}
