import { InvalidScope, expandAclFilter, filterWithinFilter } from '@mqtt-oidc/core'
import type { Acl, AclContext } from '@mqtt-oidc/core'

/** Scope tokens that ask for nothing in particular (what an OIDC client tends to send along). */
const NEUTRAL_SCOPES = new Set(['mqtt'])

export interface NarrowedAcl {
  readonly acl: Acl
  /** The granted scope, normalized: `pub:<filter>` / `sub:<filter>` tokens, space-separated. */
  readonly scope: string
}

/**
 * Narrows an ACL to the RFC 8693 `scope` asked for. Each token is
 * `pub:<filter>` or `sub:<filter>` (placeholders allowed); each filter must
 * lie within one filter `allowed` grants for that direction, for this
 * client, else InvalidScope. Returns undefined when the scope names no
 * filter (only neutral tokens such as `mqtt`): the ACL stays as it is.
 *
 * @example narrowAcl(template, 'pub:devices/${clientid}/telemetry', { clientid: 'gw-1' })
 */
export function narrowAcl(allowed: Acl, scope: string, ctx: AclContext): NarrowedAcl | undefined {
  const acl = { pub: [] as string[], sub: [] as string[] }
  const granted: string[] = []
  for (const token of new Set(scope.split(' ').filter(Boolean))) {
    if (NEUTRAL_SCOPES.has(token)) continue
    const m = /^(pub|sub):(.+)$/.exec(token)
    if (!m) throw new InvalidScope(`unknown scope "${token.slice(0, 64)}": use pub:<topic filter> or sub:<topic filter>`)
    const kind = m[1] as 'pub' | 'sub'
    const filter = expandAclFilter(m[2]!, ctx)
    if (filter === undefined) throw new InvalidScope(`scope "${token.slice(0, 64)}" is not a valid topic filter`)
    const within = allowed[kind].some((f) => {
      const outer = expandAclFilter(f, ctx)
      return outer !== undefined && filterWithinFilter(filter, outer)
    })
    if (!within) throw new InvalidScope(`scope "${token.slice(0, 64)}" is wider than this broker allows`)
    if (!acl[kind].includes(filter)) {
      acl[kind].push(filter)
      granted.push(`${kind}:${filter}`)
    }
  }
  return granted.length === 0 ? undefined : { acl, scope: granted.join(' ') }
}
