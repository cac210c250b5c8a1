import { mqttIdentifierProblem } from './mqtt-identifier-problem.js'
import { filterWithinFilter, isValidTopicFilter, isValidTopicName, topicMatchesFilter, unshareFilter } from './topic.js'

/** The `acl` claim: topic filters a token may publish to and subscribe to. */
export interface Acl {
  readonly pub: readonly string[]
  readonly sub: readonly string[]
}

/** Values substituted for `${clientid}` and `${username}` in ACL filters. */
export interface AclContext {
  readonly clientid: string
  readonly username?: string | undefined
}

/** An ACL that grants nothing (what a token without an `acl` claim gets). */
export const EMPTY_ACL: Acl = Object.freeze({ pub: Object.freeze([]), sub: Object.freeze([]) })

/** An ACL that grants every (non-`$`) topic, Cloudflare's `topicAcl: "#"`. */
export const ALL_TOPICS_ACL: Acl = Object.freeze({ pub: Object.freeze(['#']), sub: Object.freeze(['#']) })

const PLACEHOLDER = /\$\{(clientid|username)\}/g

/**
 * Substitutes `${clientid}` and `${username}` into `filter`. Returns
 * undefined (the filter grants nothing) when a value is missing or is not a
 * valid MQTT identifier (mqttIdentifierProblem: no `/`, `+`, `#`, leading
 * `$`, ...), so a crafted client id can never widen an ACL, even in a token
 * minted before the rule or by someone else.
 */
export function expandAclFilter(filter: string, ctx: AclContext): string | undefined {
  let ok = true
  const out = filter.replace(PLACEHOLDER, (_m, name: string) => {
    const value = name === 'clientid' ? ctx.clientid : ctx.username
    if (value === undefined || mqttIdentifierProblem(name === 'clientid' ? 'client id' : 'username', value) !== undefined) ok = false
    return value ?? ''
  })
  return ok && isValidTopicFilter(out) ? out : undefined
}

/** True when the ACL lets this client PUBLISH to `topic` (a topic name, no wildcards). */
export function canPublish(acl: Acl, topic: string, ctx: AclContext): boolean {
  if (!isValidTopicName(topic)) return false
  return acl.pub.some((f) => {
    const allowed = expandAclFilter(f, ctx)
    return allowed !== undefined && topicMatchesFilter(topic, allowed)
  })
}

/**
 * True when the ACL lets this client SUBSCRIBE to `filter`: the whole filter
 * must lie within one allowed filter. `$share/<group>/<f>` is checked on `<f>`.
 */
export function canSubscribe(acl: Acl, filter: string, ctx: AclContext): boolean {
  const inner = unshareFilter(filter)
  if (inner === undefined || !isValidTopicFilter(inner)) return false
  return acl.sub.some((f) => {
    const allowed = expandAclFilter(f, ctx)
    return allowed !== undefined && filterWithinFilter(inner, allowed)
  })
}

/** True when the ACL lets this client receive a message published on `topic`. */
export function canReceive(acl: Acl, topic: string, ctx: AclContext): boolean {
  return acl.sub.some((f) => {
    const allowed = expandAclFilter(f, ctx)
    return allowed !== undefined && topicMatchesFilter(topic, allowed)
  })
}
