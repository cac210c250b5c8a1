import { describe, expect, it } from 'vitest'
import { ALL_TOPICS_ACL, canPublish, canReceive, canSubscribe, EMPTY_ACL, expandAclFilter } from '../src/acl.js'

const acl = { pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#', 'users/${username}/inbox'] }
const ctx = { clientid: 'c1', username: 'alice' }

describe('ACL with placeholders', () => {
  it('lets a client publish under its own client id only', () => {
    expect(canPublish(acl, 'devices/c1/hello', ctx)).toBe(true)
    expect(canPublish(acl, 'devices/c2/hello', ctx)).toBe(false)
  })

  it('refuses PUBLISH to a topic containing wildcards', () => {
    expect(canPublish(ALL_TOPICS_ACL, 'devices/+/x', ctx)).toBe(false)
    expect(canPublish(ALL_TOPICS_ACL, 'devices/#', ctx)).toBe(false)
  })

  it('grants a subscription only when it lies entirely within an allowed filter', () => {
    expect(canSubscribe(acl, 'devices/c1/#', ctx)).toBe(true)
    expect(canSubscribe(acl, 'devices/c1/temp', ctx)).toBe(true)
    expect(canSubscribe(acl, '#', ctx)).toBe(false)
    expect(canSubscribe(acl, '+/c1/#', ctx)).toBe(false)
    expect(canSubscribe(acl, 'devices/+/#', ctx)).toBe(false)
    expect(canSubscribe(acl, 'users/alice/inbox', ctx)).toBe(true)
  })

  it('checks $share subscriptions on their filter', () => {
    expect(canSubscribe(acl, '$share/g/devices/c1/#', ctx)).toBe(true)
    expect(canSubscribe(acl, '$share/g/devices/c2/#', ctx)).toBe(false)
  })

  it('never lets a leading wildcard reach $ topics', () => {
    expect(canPublish(ALL_TOPICS_ACL, '$SYS/broker/load', ctx)).toBe(false)
    expect(canSubscribe(ALL_TOPICS_ACL, '$SYS/#', ctx)).toBe(false)
    expect(canSubscribe({ pub: [], sub: ['$SYS/#'] }, '$SYS/#', ctx)).toBe(true)
  })

  it('grants nothing through a placeholder whose value is missing or would widen the filter', () => {
    expect(canSubscribe(acl, 'users//inbox', { clientid: 'c1' })).toBe(false)
    expect(expandAclFilter('devices/${clientid}/#', { clientid: '+' })).toBeUndefined()
    expect(expandAclFilter('devices/${clientid}/#', { clientid: '#' })).toBeUndefined()
    expect(expandAclFilter('devices/${clientid}/#', { clientid: 'a/b' })).toBeUndefined()
    expect(expandAclFilter('devices/${clientid}/#', { clientid: '' })).toBeUndefined()
    expect(canPublish(acl, 'devices/a/b/x', { clientid: 'a/b' })).toBe(false)
  })

  it('grants nothing through a placeholder whose value is not a valid MQTT identifier: a leading "$" never reaches $ topics', () => {
    expect(expandAclFilter('${clientid}/#', { clientid: '$SYS' })).toBeUndefined()
    expect(canSubscribe({ pub: [], sub: ['${clientid}/#'] }, '$SYS/#', { clientid: '$SYS' })).toBe(false)
    expect(expandAclFilter('devices/${clientid}/#', { clientid: 'a\u0000' })).toBeUndefined()
    expect(expandAclFilter('users/${username}/#', { clientid: 'c1', username: 'bad user' })).toBeUndefined()
    expect(expandAclFilter('${clientid}/#', { clientid: 'c$1' })).toBe('c$1/#')
  })

  it('grants nothing with the empty ACL', () => {
    expect(canPublish(EMPTY_ACL, 'a', ctx)).toBe(false)
    expect(canSubscribe(EMPTY_ACL, 'a', ctx)).toBe(false)
    expect(canReceive(EMPTY_ACL, 'a', ctx)).toBe(false)
  })

  it('decides delivery of a message by its topic', () => {
    expect(canReceive(acl, 'devices/c1/x', ctx)).toBe(true)
    expect(canReceive(acl, 'devices/c2/x', ctx)).toBe(false)
  })
})
