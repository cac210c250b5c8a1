/**
 * MQTT topic names and filters (MQTT 3.1.1 §4.7, MQTT 5 §4.7).
 *
 * - A topic name (PUBLISH) has no wildcards.
 * - A filter (SUBSCRIBE) may use `+` for one whole level and `#` as the whole
 *   last level (matching the parent level too: `a/#` matches `a`).
 * - Topics starting with `$` are never matched by a filter whose first level
 *   is a wildcard (`#` and `+/x` do not match `$SYS/x`).
 */

const MAX_TOPIC_BYTES = 65535

/** True when `topic` is a valid topic name for PUBLISH. */
export function isValidTopicName(topic: string): boolean {
  return topic.length > 0 && Buffer.byteLength(topic) <= MAX_TOPIC_BYTES && !topic.includes('+') && !topic.includes('#') && !topic.includes('\u0000')
}

/** True when `filter` is a valid topic filter for SUBSCRIBE. */
export function isValidTopicFilter(filter: string): boolean {
  // a UTF-16 unit is at most 3 UTF-8 bytes: only a long filter needs its bytes counted (every broker token's ACL passes here)
  if (filter.length === 0 || (filter.length > MAX_TOPIC_BYTES / 3 && Buffer.byteLength(filter) > MAX_TOPIC_BYTES) || filter.includes('\u0000')) return false
  // one pass, no split: a wildcard must be a whole level, and `#` the last one
  for (let i = 0; i < filter.length; i++) {
    const c = filter.charCodeAt(i)
    if (c !== 0x2b && c !== 0x23) continue
    const wholeLevel = (i === 0 || filter.charCodeAt(i - 1) === 0x2f) && (i === filter.length - 1 || filter.charCodeAt(i + 1) === 0x2f)
    if (!wholeLevel || (c === 0x23 && i !== filter.length - 1)) return false
  }
  return true
}

/** True when the topic name `topic` is matched by the (valid) filter `filter`. */
export function topicMatchesFilter(topic: string, filter: string): boolean {
  const t = topic.split('/')
  const f = filter.split('/')
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false
  for (let i = 0; i < f.length; i++) {
    const level = f[i]
    if (level === '#') return true
    if (i >= t.length) return false
    if (level !== '+' && level !== t[i]) return false
  }
  return t.length === f.length
}

/**
 * True when every topic that `requested` can match is also matched by
 * `allowed`: the rule for granting a SUBSCRIBE. `dev/+/#` is not within
 * `dev/c1/#`; `dev/c1/x` and `dev/c1/#` are.
 */
export function filterWithinFilter(requested: string, allowed: string): boolean {
  const q = requested.split('/')
  const a = allowed.split('/')
  const reqFirst = q[0] ?? ''
  if ((a[0] === '+' || a[0] === '#') && reqFirst.startsWith('$')) return false
  for (let i = 0; i < a.length; i++) {
    const al = a[i]
    if (al === '#') return true
    const ql = q[i]
    if (ql === undefined) return false
    if (ql === '#') return false
    if (al === '+') continue
    if (ql === '+' || ql !== al) return false
  }
  return q.length === a.length
}

/**
 * Splits a `$share/<group>/<filter>` subscription into its filter; other
 * filters come back unchanged. Returns undefined for a malformed share.
 */
export function unshareFilter(filter: string): string | undefined {
  if (!filter.startsWith('$share/')) return filter
  const rest = filter.slice('$share/'.length)
  const slash = rest.indexOf('/')
  if (slash <= 0) return undefined
  const group = rest.slice(0, slash)
  if (group.includes('+') || group.includes('#')) return undefined
  const inner = rest.slice(slash + 1)
  return inner.length > 0 ? inner : undefined
}
