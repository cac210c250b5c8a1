import { rabbitmqScopes } from '@mqtt-oidc/core'
import type { Acl, AclContext } from '@mqtt-oidc/core'
import type { BrokerPolicy } from './broker-policy.js'

/**
 * How a broker's profile shapes its tokens beyond the default claims: the
 * `aud` and the extra claims.
 */
export interface TokenShape {
  /** The profile name, for logs. */
  readonly profile: BrokerPolicy['profile']
  /** The token's `aud`. */
  readonly audience: string
  /** Claims added to (or replacing) the default ones for one token. */
  claims(acl: Acl, ctx: AclContext): Record<string, unknown>
}

/**
 * The shape of `broker`'s tokens under its policy:
 * - `default`: aud = the broker id; the `acl` claim as is.
 * - `emqx`: aud = the broker id; `acl` in EMQX 5's JWT ACL "old format"
 *   `{pub: [...], sub: [...]}` (EMQX also reads an `all` list, which we never
 *   emit), with `${clientid}` / `${username}` left for EMQX to interpolate.
 *   We keep the old format on purpose: with it EMQX denies whatever the lists
 *   do not grant, while the 5.5+ array format (`[{permission, action, topic}]`)
 *   falls through to other authorizers and `authorization.no_match` (allow by
 *   default). EMQX gives a filter starting with `eq ` literal-match meaning;
 *   our filters never need it. Bind the client id to `sub` in EMQX's JWT
 *   authenticator with `verify_claims { sub = "${clientid}" }`.
 * - `rabbitmq`: aud = the policy's `resourceServerId` (default the broker id),
 *   which must equal RabbitMQ's `auth_oauth2.resource_server_id`; a `scope`
 *   claim (space-separated) that maps the ACL to RabbitMQ topic permissions
 *   and to the subscription queues of the token's own client id only
 *   (RabbitMQ never compares the token with the MQTT client id; see
 *   rabbitmqScopes and apps/broker/RABBITMQ.md). The policy's alg defaults to
 *   RS256 for this profile.
 */
export function tokenShape(broker: string, policy: BrokerPolicy): TokenShape {
  switch (policy.profile) {
    case 'rabbitmq': {
      const resourceServerId = policy.resourceServerId ?? broker
      return {
        profile: 'rabbitmq',
        audience: resourceServerId,
        claims: (acl, ctx) => ({ scope: rabbitmqScopes(acl, ctx, { resourceServerId }).join(' ') }),
      }
    }
    case 'emqx':
      return { profile: 'emqx', audience: broker, claims: (acl) => ({ acl: emqxAcl(acl) }) }
    default:
      return { profile: 'default', audience: broker, claims: () => ({}) }
  }
}

/** EMQX 5's JWT `acl` claim (old format): publish and subscribe allow-lists. */
export function emqxAcl(acl: Acl): { pub: string[]; sub: string[] } {
  return { pub: [...acl.pub], sub: [...acl.sub] }
}
