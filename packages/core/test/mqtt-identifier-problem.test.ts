import { describe, expect, it } from 'vitest'
import { MAX_MQTT_IDENTIFIER_BYTES, mqttIdentifierProblem } from '../src/mqtt-identifier-problem.js'

describe('mqttIdentifierProblem', () => {
  it('accepts ids a person or a fleet would use, Unicode included', () => {
    for (const id of [
      'gw-17',
      'demo-01JQ3ZK5B7V1E2W3X4Y5Z6A7B8',
      'alice@example.com',
      'sensor.kitchen_2',
      'Gerät-Küche',
      'a$b',
      'x'.repeat(MAX_MQTT_IDENTIFIER_BYTES),
    ]) {
      expect(mqttIdentifierProblem('client id', id)).toBeUndefined()
    }
  })

  it('refuses what would widen a topic filter it is substituted into: "/", "+", "#" and a leading "$"', () => {
    expect(mqttIdentifierProblem('client id', 'a/+/#')).toBe('client id "a/+/#" may not contain "/", "+" or "#"')
    expect(mqttIdentifierProblem('client id', 'a/b')).toBe('client id "a/b" may not contain "/", "+" or "#"')
    expect(mqttIdentifierProblem('username', 'ops+1')).toBe('username "ops+1" may not contain "/", "+" or "#"')
    expect(mqttIdentifierProblem('client id', '#')).toBe('client id "#" may not contain "/", "+" or "#"')
    expect(mqttIdentifierProblem('client id', '$SYS')).toBe('client id "$SYS" may not start with "$"')
  })

  it('refuses NUL, control, invisible and white-space characters, and ill-formed Unicode', () => {
    for (const id of ['a\u0000b', 'a\nb', 'a\u007fb', 'a\u0085b', 'a b', 'a\u00a0b', 'admin\u202e', 'a\u200bb', 'a\u2028b']) {
      expect(mqttIdentifierProblem('client id', id)).toMatch(/may not contain spaces, control or invisible characters$/)
    }
    expect(mqttIdentifierProblem('client id', 'a\ud800b')).toMatch(/is not well-formed Unicode$/)
  })

  it('refuses the empty string, non-strings and more than 256 bytes of UTF-8', () => {
    expect(mqttIdentifierProblem('client id', '')).toBe('client id must be a non-empty string')
    expect(mqttIdentifierProblem('username', 42)).toBe('username must be a non-empty string')
    expect(mqttIdentifierProblem('client id', 'ü'.repeat(129))).toMatch(/is longer than 256 bytes$/)
    expect(mqttIdentifierProblem('client id', 'x'.repeat(300))).toBe(`client id "${'x'.repeat(64)}…" is longer than 256 bytes`)
  })
})

describe('mqttIdentifierProblem on every ASCII character (its fast path for printable ASCII must agree with the full rules)', () => {
  it('accepts exactly the printable characters other than space, "/", "+" and "#", and "$" anywhere but first', () => {
    for (let code = 0; code < 128; code++) {
      const c = String.fromCharCode(code)
      const allowed = code > 0x20 && code < 0x7f && !'/+#'.includes(c)
      expect(mqttIdentifierProblem('client id', `a${c}b`) === undefined, `code ${code} inside`).toBe(allowed)
      expect(mqttIdentifierProblem('client id', `${c}b`) === undefined, `code ${code} first`).toBe(allowed && c !== '$')
    }
  })
})
