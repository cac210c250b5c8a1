import { describe, expect, it } from 'vitest'
import { MAX_ACL_FILTERS, TokenClaimsInvalid, parseBrokerTokenClaims } from '../src/index.js'

const good = {
  iss: 'http://127.0.0.1:4001',
  aud: 'demo',
  sub: 'gw-1',
  jti: 'b1e0c6d2-7c1f-4c55-9d0e-2f6f1a9f3c11',
  iat: 1_800_000_000,
  exp: 1_800_003_600,
  acl: { pub: ['devices/${clientid}/#'], sub: ['devices/${clientid}/#', 'cmd/+'] },
}

function refusal(payload: unknown): { message: string; claim: string | undefined; reason: string | undefined } {
  try {
    parseBrokerTokenClaims(payload)
  } catch (err) {
    expect(err).toBeInstanceOf(TokenClaimsInvalid)
    const e = err as TokenClaimsInvalid
    return { message: e.message, claim: e.claim, reason: e.reason }
  }
  throw new Error('accepted')
}

describe('parseBrokerTokenClaims (the claim rules every broker applies to a verified token)', () => {
  it('returns the claims of a good token, other claims passed through', () => {
    const payload = { ...good, username: 'alice', nbf: 1_800_000_000, topicAcl: '#', extra: { x: 1 } }
    expect(parseBrokerTokenClaims(payload)).toEqual(payload)
    const { acl: _acl, exp: _exp, ...minimal } = good
    expect(parseBrokerTokenClaims(minimal)).toEqual(minimal)
  })

  it.each([
    ['not an object', [good], 'broker token claims invalid: (root): not a JSON object', undefined],
    ['no sub', { ...good, sub: undefined }, 'broker token claims invalid: sub: is required', 'sub'],
    ['empty sub', { ...good, sub: '' }, 'broker token claims invalid: sub: must not be empty', 'sub'],
    ['sub of 257 characters', { ...good, sub: 'x'.repeat(257) }, 'broker token claims invalid: sub: must be at most 256 characters', 'sub'],
    ['aud a list', { ...good, aud: ['demo'] }, 'broker token claims invalid: aud: must be a string', 'aud'],
    ['no iss', { ...good, iss: undefined }, 'broker token claims invalid: iss: is required', 'iss'],
    ['jti a number', { ...good, jti: 7 }, 'broker token claims invalid: jti: must be a string', 'jti'],
    ['jti of 129 characters', { ...good, jti: 'j'.repeat(129) }, 'broker token claims invalid: jti: must be at most 128 characters', 'jti'],
    ['username empty', { ...good, username: '' }, 'broker token claims invalid: username: must not be empty', 'username'],
    ['no iat', { ...good, iat: undefined }, 'broker token claims invalid: iat: is required', 'iat'],
    ['iat a fraction', { ...good, iat: 1.5 }, 'broker token claims invalid: iat: must be a whole number of seconds', 'iat'],
    ['exp a string', { ...good, exp: 'soon' }, 'broker token claims invalid: exp: must be a whole number of seconds', 'exp'],
    ['nbf beyond a safe integer', { ...good, nbf: 2 ** 60 }, 'broker token claims invalid: nbf: must be a whole number of seconds', 'nbf'],
    ['acl a string', { ...good, acl: '#' }, 'broker token claims invalid: acl: must be an object with pub and sub lists', 'acl'],
    ['acl with an extra member', { ...good, acl: { pub: [], sub: [], admin: true } }, 'broker token claims invalid: acl: has an unknown member "admin"', 'acl'],
    ['acl without sub', { ...good, acl: { pub: [] } }, 'broker token claims invalid: acl.sub: must be a list of topic filters', 'acl'],
    ['acl with a bad filter', { ...good, acl: { pub: ['a/#/b'], sub: [] } }, 'broker token claims invalid: acl.pub.0: not a valid MQTT topic filter', 'acl'],
    [
      'acl with a non-string filter',
      { ...good, acl: { pub: [], sub: ['ok', 3] } },
      'broker token claims invalid: acl.sub.1: not a valid MQTT topic filter',
      'acl',
    ],
    [
      'acl with too many filters',
      { ...good, acl: { pub: Array.from({ length: MAX_ACL_FILTERS + 1 }, (_, i) => `t/${i}`), sub: [] } },
      `broker token claims invalid: acl.pub: must hold at most ${MAX_ACL_FILTERS} filters`,
      'acl',
    ],
    ['topicAcl other than "#"', { ...good, topicAcl: 'devices/#' }, 'broker token claims invalid: topicAcl: must be "#" when present', 'topicAcl'],
  ])('refuses %s, naming the claim', (_name, payload, message, claim) => {
    expect(refusal(payload)).toEqual({ message, claim, reason: 'invalid' })
  })

  it('accepts exactly MAX_ACL_FILTERS filters per list', () => {
    const filters = Array.from({ length: MAX_ACL_FILTERS }, (_, i) => `t/${i}`)
    expect(parseBrokerTokenClaims({ ...good, acl: { pub: filters, sub: filters } }).acl?.pub).toHaveLength(MAX_ACL_FILTERS)
  })
})
