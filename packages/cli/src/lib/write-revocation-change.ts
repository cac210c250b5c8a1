import type { AdminClient } from '@mqtt-oidc/client'
import type { CredentialView } from '@mqtt-oidc/core'
import { writeLine, type CliIo } from './cli-io.js'
import { localTime, writeTable } from './output.js'

/** Credential records looked up at once when a change is shown (a revoke may name up to 1000 jtis). */
const LOOKUPS_AT_ONCE = 8

export interface RevocationChangeView {
  readonly broker: string
  readonly action: 'revoke' | 'unrevoke'
  /** The jtis given with --jti, in their order. */
  readonly requested: readonly string[]
  /** The jtis the change revoked or unrevoked (`revoked` / `unrevoked` of the answer). */
  readonly changed: readonly string[]
}

/**
 * What a `broker revoke|unrevoke` did, for a person at a terminal: one row
 * per jti (those given and those a --client-id revoked) with its client id,
 * what happened to it and when it expires, from the broker's credential
 * records; then one sentence on stderr. A jti that was already in the state
 * asked for says so instead of passing for a change.
 */
export async function writeRevocationChange(io: CliIo, api: AdminClient, view: RevocationChangeView): Promise<void> {
  const changed = new Set(view.changed)
  const jtis = [...new Set([...view.requested, ...view.changed])]
  const records = await lookUp(api, view.broker, jtis)
  const now = Math.floor(Date.now() / 1000)
  const [done, unchanged] = view.action === 'revoke' ? ['revoked', 'revoked already'] : ['unrevoked', 'not revoked']
  if (jtis.length > 0) {
    writeTable(
      io.stdout,
      ['JTI', 'CLIENT ID', 'RESULT', 'EXPIRES'],
      jtis.map((jti) => {
        const c = records.get(jti)
        const expires = c === undefined ? undefined : c.expiresAt === null ? 'never' : `${localTime(c.expiresAt)}${c.expiresAt <= now ? ' (expired)' : ''}`
        return [jti, c?.clientId, changed.has(jti) ? done : unchanged, expires]
      }),
    )
  }
  const n = changed.size
  if (n === 0) return
  const one = n === 1
  writeLine(
    io.stderr,
    view.action === 'revoke'
      ? `Revoked ${n} credential${one ? '' : 's'} on ${view.broker}: brokers close ${one ? 'its' : 'their'} sessions and refuse ${one ? 'it' : 'them'} from now on.`
      : `Unrevoked ${n} credential${one ? '' : 's'} on ${view.broker}: brokers accept ${one ? 'it' : 'them'} again.`,
  )
}

/** The credential record of each jti (absent when the exchange has pruned it). */
async function lookUp(api: AdminClient, broker: string, jtis: readonly string[]): Promise<Map<string, CredentialView>> {
  const found = new Map<string, CredentialView>()
  for (let i = 0; i < jtis.length; i += LOOKUPS_AT_ONCE) {
    const pages = await Promise.all(jtis.slice(i, i + LOOKUPS_AT_ONCE).map((jti) => api.listCredentials(broker, { jti, limit: 1 })))
    for (const c of pages.flatMap((p) => p.credentials)) found.set(c.jti, c)
  }
  return found
}
