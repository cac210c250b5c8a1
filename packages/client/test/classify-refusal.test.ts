import { describe, expect, it } from 'vitest'
import { NotAuthorized, ProtocolVersionRefused } from '../src/errors.js'
import { classifyRefusal } from '../src/lib/classify-refusal.js'

// The MQTT 5 reason codes connect-with-token.test.ts gets from a real
// mosquitto are tested there. Debian's mosquitto 2.0.11 never sends these two
// (it answers an empty client id with 0x80, and takes every level-5 CONNECT),
// so their mapping is tested here, on the function connectWithToken calls
// with the CONNACK's reason code.
describe('classifyRefusal (MQTT 5 CONNACK reason codes no broker of the test suite sends)', () => {
  const token = { token: 'token-1', clientId: 'gateway-1', expiresAt: Date.now() / 1000 + 300 }

  it('maps 0x85 (client identifier not valid) to NotAuthorized', async () => {
    const err = await classifyRefusal({ returnCode: 0x85, token, renewError: undefined, protocolVersion: 5 })
    expect(err).toBeInstanceOf(NotAuthorized)
    expect(err).toMatchObject({
      code: 'ERR_NOT_AUTHORIZED',
      returnCode: 0x85,
      message: 'the broker does not authorize this connection (CONNACK 133: client identifier not valid): check the broker id, client id and username',
    })
  })

  it('maps 0x84 (unsupported protocol version) to ProtocolVersionRefused, with the version the client asked for', async () => {
    const err = await classifyRefusal({ returnCode: 0x84, token, renewError: undefined, protocolVersion: 5 })
    expect(err).toBeInstanceOf(ProtocolVersionRefused)
    expect(err).toMatchObject({ code: 'ERR_PROTOCOL_VERSION_REFUSED', returnCode: 0x84, protocolVersion: 5 })
  })
})
