import type { Aedes, Client } from 'aedes'
import { AclDenied, canPublish, canReceive, canSubscribe } from '@mqtt-oidc/core'
import type { LogFn, RevocationChecker } from '../types.js'
import type { Session, SessionRegistry } from './session-registry.js'

const SYS_PREFIX = '$SYS/'

export interface AclHooksOptions {
  /** Revoked jtis: a revoked credential's will is never published. */
  readonly revocations?: RevocationChecker | undefined
  readonly log: LogFn
  /** Clock in epoch ms. Default `Date.now`. */
  readonly now?: () => number
}

export type AclHooks = Pick<Aedes, 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>

/**
 * aedes' publish, subscribe and forward hooks over the session registry:
 * nothing outside the session's ACL is published, subscribed (SUBACK 0x80
 * per denied filter) or delivered (retained messages included), and a
 * session grants nothing once revoked, expired or closed. The one exception
 * is the will: it is published when the connection ends for any reason but
 * revocation, if its topic is inside the ACL ([MQTT-3.1.2-8]).
 */
export function createAclHooks(registry: SessionRegistry<Client>, options: AclHooksOptions): AclHooks {
  const now = options.now ?? Date.now
  const isLive = (session: Session): boolean => !session.ended && (session.exp === undefined || now() < session.exp * 1000)

  function mayPublishWill(session: Session): boolean {
    return session.ended !== 'revoked' && !options.revocations?.has(session.jti)
  }

  function denied(what: string, session: Session | undefined, topic: string): AclDenied {
    options.log('warn', `${what} denied`, {
      code: 'ERR_ACL_DENIED',
      client_id: session?.clientid,
      jti: session?.jti,
      topic,
      session: session?.ended ?? (session ? 'live' : 'none'),
    })
    return new AclDenied(`${what} to ${topic} denied`)
  }

  return {
    authorizePublish(client, packet, callback) {
      const session = client ? registry.get(client) : undefined
      const will = client !== null && isWill(client, packet)
      if (!session || !(will ? mayPublishWill(session) : isLive(session))) {
        return callback(denied(will ? 'will' : 'PUBLISH', session, packet.topic))
      }
      if (packet.topic.startsWith(SYS_PREFIX) || !canPublish(session.acl, packet.topic, session)) {
        return callback(denied(will ? 'will' : 'PUBLISH', session, packet.topic))
      }
      callback(null)
    },
    authorizeSubscribe(client, subscription, callback) {
      const session = registry.get(client)
      if (session && isLive(session) && canSubscribe(session.acl, subscription.topic, session)) {
        return callback(null, subscription)
      }
      denied('SUBSCRIBE', session, subscription.topic)
      callback(null, null) // SUBACK 0x80 for this filter only
    },
    authorizeForward(client, packet) {
      const session = registry.get(client)
      if (session && isLive(session) && canReceive(session.acl, packet.topic, session)) return packet
      return null
    },
  }
}

/** aedes authorizes a will with the closing client's own `will` packet object (lib/client.js `close`). */
function isWill(client: Client, packet: object): boolean {
  return client.closed && (client as Client & { will?: unknown }).will === packet
}
