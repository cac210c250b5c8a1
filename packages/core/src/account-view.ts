import type { Account, ClientIdMode } from './store.js'

/**
 * An account as the IdP's admin API shows it (`/admin/accounts`): what the IdP
 * sends and the client library reads. Never the password or its hash.
 */
export interface AccountView {
  /** The ID token's `sub`. */
  readonly id: string
  readonly username: string
  /** MQTT client ids the account may use; the first is the default. */
  readonly clientIds: readonly string[]
  readonly groups: readonly string[]
  readonly disabled: boolean
  /** Epoch seconds. */
  readonly createdAt: number
  readonly clientIdMode: ClientIdMode
}

/** A client id several accounts listed before each id had one owner (`/admin/client-id-conflicts`). */
export interface ClientIdConflict {
  readonly clientId: string
  /** The accounts listing it; none of them gets it until all but one drop it. */
  readonly usernames: string[]
}

/** The view of `account`, without its password hash. */
export function accountView(account: Account): AccountView {
  return {
    id: account.id,
    username: account.username,
    clientIds: [...account.clientIds],
    groups: [...account.groups],
    disabled: account.disabled,
    createdAt: account.createdAt,
    clientIdMode: account.clientIdMode ?? 'per-login',
  }
}
