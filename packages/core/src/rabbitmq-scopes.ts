import { expandAclFilter } from './acl.js'
import type { Acl, AclContext } from './acl.js'

export interface RabbitmqScopeOptions {
  /** RabbitMQ's `auth_oauth2.resource_server_id`: the prefix of every scope and the token's `aud`. Required. */
  resourceServerId: string
  /** Virtual host pattern. Default `*`. */
  vhost?: string
}

/**
 * An MQTT topic filter as a RabbitMQ scope routing-key pattern: `/` and `.`
 * swap (as rabbitmq_mqtt does); `+` and `#` become `*`, the scope's string
 * wildcard (a literal `#` would only match the binding key `#` itself).
 */
function routingKeyPattern(filter: string): string {
  return filter
    .split('/')
    .map((level) => (level === '+' || level === '#' ? '*' : level.replaceAll('.', '/')))
    .join('.')
}

/**
 * rabbitmq_mqtt's queues for one client's subscriptions (QoS 0 and QoS 1),
 * by exact name. RabbitMQ never compares the MQTT client id with the token,
 * so naming the token's own queues is what keeps a token used under another
 * client id away from that client's subscriptions and queued messages. A
 * client id with `*` (the scope wildcard) gets none: its name cannot be
 * granted without granting other clients' queues too.
 */
function subscriptionQueues(clientid: string): string[] {
  if (clientid.includes('*')) return []
  return [`mqtt-subscription-${clientid}qos0`, `mqtt-subscription-${clientid}qos1`]
}

/**
 * The `scope` strings that make RabbitMQ's OAuth 2 backend (with
 * rabbitmq_mqtt) enforce a broker token's ACL: 3-part topic scopes
 * `<id>.write:<vhost>/<any exchange>/<routing key>` per publish filter and
 * `<id>.read:<vhost>/<any exchange>/<routing key>` per subscribe filter, plus the
 * 2-part resource scopes MQTT needs (write on `amq.topic` to publish; the
 * subscription queues of the token's own client id and read on `amq.topic`
 * to subscribe).
 * Placeholders are expanded first; `$` topics are never granted.
 * Known differences: RabbitMQ's scope wildcards are plain string wildcards, so
 * `+` (one level) becomes `*`, which also matches several levels; and `a/#`
 * becomes `a.*`, which does not match the parent topic `a` itself.
 *
 * @example
 * const scope = rabbitmqScopes(acl, { clientid: 'c1' }, { resourceServerId: 'rabbitmq' }).join(' ')
 */
export function rabbitmqScopes(acl: Acl, ctx: AclContext, options: RabbitmqScopeOptions): string[] {
  const id = options.resourceServerId
  const vhost = options.vhost ?? '*'
  const expand = (filters: readonly string[]): string[] =>
    filters
      .map((f) => expandAclFilter(f, ctx))
      .filter((f): f is string => f !== undefined && !f.startsWith('$'))
      .map(routingKeyPattern)
  const pub = expand(acl.pub)
  const sub = expand(acl.sub)
  const scopes: string[] = []
  if (pub.length > 0) scopes.push(`${id}.write:${vhost}/amq.topic`, ...pub.map((rk) => `${id}.write:${vhost}/*/${rk}`))
  if (sub.length > 0) {
    const queues = subscriptionQueues(ctx.clientid)
    scopes.push(
      ...queues.flatMap((queue) => (['configure', 'write', 'read'] as const).map((permission) => `${id}.${permission}:${vhost}/${queue}`)),
      `${id}.read:${vhost}/amq.topic`,
      ...sub.map((rk) => `${id}.read:${vhost}/*/${rk}`),
    )
  }
  // RabbitMQ's backend crashes on a token without any scope: grant vhost access and nothing else
  return scopes.length > 0 ? [...new Set(scopes)] : [`${id}.read:${vhost}/mqtt-no-access`]
}
