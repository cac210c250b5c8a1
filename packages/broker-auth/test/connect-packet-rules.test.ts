import { describe, expect, it } from 'vitest'
import { REFUSALS } from '@mqtt-oidc/core'
import type { ConnectPacket } from 'aedes'
import { clientIdRefusal, connectPacketViolation } from '../src/lib/connect-packet-rules.js'

/** A CONNECT as mqtt-packet parses it: `username`/`password` are present only when their flags are set. */
const connect = (fields: Partial<ConnectPacket>): ConnectPacket => ({
  cmd: 'connect',
  protocolId: 'MQTT',
  protocolVersion: 4,
  clean: true,
  clientId: 'c',
  keepalive: 0,
  ...fields,
})

describe('connectPacketViolation [MQTT-3.1.2-22]', () => {
  it('refuses a password flag without the user name flag', () => {
    expect(connectPacketViolation(connect({ password: Buffer.from('t') }))?.code).toBe('ERR_INVALID_REQUEST')
    expect(connectPacketViolation(connect({ protocolId: 'MQIsdp', protocolVersion: 3, password: Buffer.from('t') }))?.code).toBe('ERR_INVALID_REQUEST')
  })

  it('accepts user name and password, a user name alone (also empty), and neither', () => {
    expect(connectPacketViolation(connect({ username: 'u', password: Buffer.from('t') }))).toBeUndefined()
    expect(connectPacketViolation(connect({ username: '', password: Buffer.from('t') }))).toBeUndefined()
    expect(connectPacketViolation(connect({ username: 'u' }))).toBeUndefined()
    expect(connectPacketViolation(connect({}))).toBeUndefined()
  })

  it('leaves MQTT 5, where a password alone is allowed, to aedes', () => {
    expect(connectPacketViolation(connect({ protocolVersion: 5, password: Buffer.from('t') }))).toBeUndefined()
  })
})

describe('clientIdRefusal [MQTT-3.1.3-8]', () => {
  it('refuses an empty client id with CleanSession=0 with CONNACK 2', () => {
    expect(clientIdRefusal('', false)?.code).toBe('ERR_CLIENT_ID_REJECTED')
    expect(REFUSALS.ERR_CLIENT_ID_REJECTED.connack).toBe(2)
  })

  it('lets an empty client id with CleanSession=1 and any non-empty one through', () => {
    expect(clientIdRefusal('', true)).toBeUndefined()
    expect(clientIdRefusal('c1', false)).toBeUndefined()
  })
})
