import { describe, expect, it } from 'vitest'
import { createAclInterner } from '../src/lib/acl-interner.js'

describe('createAclInterner', () => {
  it('hands equal ACLs the same frozen object and keeps different ones apart', () => {
    const acls = createAclInterner()
    const a = acls.intern({ pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#'] })
    expect(acls.intern({ pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#'] })).toBe(a)
    expect(Object.isFrozen(a) && Object.isFrozen(a.pub)).toBe(true)
    // the same filters on the other side are another ACL
    expect(acls.intern({ pub: [], sub: ['devices/${clientid}/#', 'devices/${clientid}/#'] })).not.toBe(a)
    expect(acls.intern({ pub: ['devices/${clientid}/#', 'devices/${clientid}/#'], sub: [] })).not.toBe(a)
    expect(acls.size).toBe(3)
    // back to the first after others: the same object again, also when it was not the last one handed out
    expect(acls.intern({ pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#'] })).toBe(a)
    expect(acls.intern({ pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/+'] })).not.toBe(a)
  })

  it('holds at most maxEntries ACLs', () => {
    const acls = createAclInterner(2)
    for (const t of ['a', 'b', 'c']) acls.intern({ pub: [t], sub: [] })
    expect(acls.size).toBe(2)
  })
})
