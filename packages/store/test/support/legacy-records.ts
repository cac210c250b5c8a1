import { expect } from 'vitest'
import { DEFAULT_BROKER_POLICY } from '@mqtt-oidc/core'
import type { Store } from '@mqtt-oidc/core'

/**
 * What the apps kept as untyped records in oidc_records before schema 6, for
 * the migration tests of both stores: brokers and exchange keys to create at
 * schema 5, and the records, as [model, id, payload, expiresAt].
 */
export const LEGACY_BROKERS = ['demo', 'shaped', 'reborn'] as const
export const LEGACY_KEYS = ['k-dated', 'k-never', 'k-unrecorded'] as const

const SHAPED_POLICY = {
  clientIdMode: 'generated',
  aclTemplates: [{ when: { group: 'ops' }, acl: { pub: ['ops/#'], sub: [] } }],
  maxLifetime: 900,
  rateLimit: { requests: 5, windowSeconds: 60 },
  profile: 'rabbitmq',
  allowedIssuers: ['https://a.example'],
  alg: 'RS256',
  resourceServerId: 'mqtt',
}

export function legacyRecords(now: number): Array<[model: string, id: string, payload: unknown, expiresAt: number | null]> {
  return [
    ['MqttOidcBrokerPolicy', 'shaped', SHAPED_POLICY, null],
    // Written before later fields existed: the rest comes from the defaults.
    ['MqttOidcBrokerPolicy', 'demo', { profile: 'emqx' }, null],
    // Of a broker deleted since: dropped.
    ['MqttOidcBrokerPolicy', 'gone', { alg: 'HS256' }, null],
    ['MqttOidcFeedCredential', 'demo', { sha256: 'ab'.repeat(32), brokerCreatedAt: now, issuedAt: now - 5 }, null],
    // Issued for an earlier broker of the same id: not this one's.
    ['MqttOidcFeedCredential', 'reborn', { sha256: 'cd'.repeat(32), brokerCreatedAt: now - 100, issuedAt: now - 100 }, null],
    ['MqttOidcKeyUsage', 'k-dated', { lastExp: now + 7200 }, null],
    ['MqttOidcKeyUsage', 'k-never', { lastExp: null }, null],
    ['ClientIdLease', 'a1', { grants: { g1: { clientId: 'demo-1', base: 'demo-1' }, g2: { clientId: 'demo-1-ABCDEFGHIJ', base: 'demo-1' } } }, now + 3600],
    // oidc-provider's own: stays.
    ['Session', 's1', { uid: 'u1' }, now + 600],
  ]
}

/** Asserts that `store`, opened on a database holding legacyRecords(now), reads each of them through its typed methods. */
export async function expectLegacyRecordsMigrated(store: Store, now: number): Promise<void> {
  expect((await store.brokers.list()).map((b) => [b.id, b.policy])).toEqual([
    ['demo', { ...DEFAULT_BROKER_POLICY, profile: 'emqx' }],
    ['reborn', DEFAULT_BROKER_POLICY],
    ['shaped', SHAPED_POLICY],
  ])
  expect(await store.brokers.feedCredential('demo')).toEqual({ sha256: 'ab'.repeat(32), issuedAt: now - 5 })
  expect(await store.brokers.feedCredential('reborn')).toBeUndefined()
  expect(await store.keys.lastTokenExpiry('k-dated')).toBe(now + 7200)
  expect(await store.keys.lastTokenExpiry('k-never')).toBeNull()
  expect(await store.keys.lastTokenExpiry('k-unrecorded')).toBeUndefined()
  expect(await store.clientIds.leasesOf('a1', now)).toEqual([
    { grantId: 'g1', accountId: 'a1', clientId: 'demo-1', base: 'demo-1', expiresAt: now + 3600 },
    { grantId: 'g2', accountId: 'a1', clientId: 'demo-1-ABCDEFGHIJ', base: 'demo-1', expiresAt: now + 3600 },
  ])
  expect(await store.oidc.find('Session', 's1')).toEqual({ uid: 'u1' })
}
