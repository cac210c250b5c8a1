import type { Acl } from '@mqtt-oidc/core'

export interface AclInterner {
  /** An ACL equal to `acl`, shared with every earlier session that had the same one. */
  intern(acl: Acl): Acl
  readonly size: number
}

/**
 * Shares equal ACLs between sessions. Exchanged tokens carry their broker's
 * template (`devices/${clientid}/#`), so thousands of sessions hold the same
 * few ACLs; without this each keeps its own parsed copy of the claim.
 * Holds at most `maxEntries` distinct ACLs (oldest dropped first).
 */
export function createAclInterner(maxEntries = 1000): AclInterner {
  const shared = new Map<string, Acl>()
  // the ACL handed out last: a fleet on one broker template sends it again and again, and comparing
  // a few filters costs less than building the key below
  let last: Acl | undefined
  return {
    intern(acl) {
      if (last && sameFilters(last.pub, acl.pub) && sameFilters(last.sub, acl.sub)) return last
      last = internByKey(acl)
      return last
    },
    get size() {
      return shared.size
    },
  }

  function internByKey(acl: Acl): Acl {
    // topic filters never contain NUL, and the count keeps pub and sub apart
    const key = `${acl.pub.length}\u0000${acl.pub.join('\u0000')}\u0000${acl.sub.join('\u0000')}`
    const known = shared.get(key)
    if (known) return known
    const frozen: Acl = Object.freeze({ pub: Object.freeze([...acl.pub]), sub: Object.freeze([...acl.sub]) })
    shared.set(key, frozen)
    if (shared.size > maxEntries) shared.delete(shared.keys().next().value as string)
    return frozen
  }
}

function sameFilters(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
