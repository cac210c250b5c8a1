import type { ConnectPacket } from 'aedes'
import { ClientIdRejected, InvalidRequest } from '@mqtt-oidc/core'

/**
 * A CONNECT that breaks MQTT 3.1/3.1.1 in a way that closes the connection
 * without a CONNACK: a password without a user name ([MQTT-3.1.2-22]).
 * MQTT 5 allows that, and aedes answers MQTT 5 with CONNACK 1 anyway.
 */
export function connectPacketViolation(packet: Readonly<ConnectPacket>): InvalidRequest | undefined {
  if (packet.protocolVersion !== 3 && packet.protocolVersion !== 4) return undefined
  if (packet.password !== undefined && packet.username === undefined) {
    return new InvalidRequest('CONNECT has the password flag without the user name flag [MQTT-3.1.2-22]')
  }
  return undefined
}

/**
 * The client id rule checked before any token: an empty client id asks the
 * server for one, which only a clean session may do ([MQTT-3.1.3-8], CONNACK 2).
 */
export function clientIdRefusal(clientId: string, clean: boolean): ClientIdRejected | undefined {
  if (clientId === '' && !clean) return new ClientIdRejected('an empty client id needs CleanSession=1 [MQTT-3.1.3-8]')
  return undefined
}
