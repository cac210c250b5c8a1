/** Longest MQTT client id or username accepted anywhere, in UTF-8 bytes. */
export const MAX_MQTT_IDENTIFIER_BYTES = 256

/** What an identifier is, for the message. */
export type MqttIdentifierKind = 'client id' | 'username'

// Cc (C0, DEL, C1: NUL included), Cf (invisible format marks such as U+202E,
// which make two different ids look alike), line/paragraph separators and
// every kind of white space.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{White_Space}]/u
const TOPIC_SYNTAX = /[/+#]/
// In a `u` pattern a well-formed pair is one code point: only lone halves match.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/**
 * Why `value` cannot be an MQTT client id or username, or `undefined` when it
 * can. The one rule for every place an identifier enters: the IdP's accounts
 * and leases, the exchange (claims of every issuer, admin issue, generated
 * ids) and the broker (CONNECT).
 *
 * Both are substituted into ACL topic filters (`devices/${clientid}/#`) as
 * ONE topic level, so neither may hold:
 * - `/` (it would make the value several levels: `a/b` would reach `devices/a/b/#`),
 * - `+` or `#` (wildcards: `+` would reach every device's topics),
 * - a leading `$` (`$SYS` in `${clientid}/#` would reach the broker's `$SYS` tree),
 * - control, format or white-space characters, or ill-formed UTF-16 (MQTT
 *   forbids U+0000 and ill-formed UTF-8; the others make ids that look alike),
 * and it is 1 to 256 bytes of UTF-8.
 *
 * @example mqttIdentifierProblem('client id', 'a/+/#') // 'client id "a/+/#" may not contain "/", "+" or "#"'
 */
export function mqttIdentifierProblem(kind: MqttIdentifierKind, value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return `${kind} must be a non-empty string`
  if (plainAscii(value)) return undefined
  const shown = JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value)
  if (LONE_SURROGATE.test(value)) return `${kind} ${shown} is not well-formed Unicode`
  if (Buffer.byteLength(value) > MAX_MQTT_IDENTIFIER_BYTES) return `${kind} ${shown} is longer than ${MAX_MQTT_IDENTIFIER_BYTES} bytes`
  if (TOPIC_SYNTAX.test(value)) return `${kind} ${shown} may not contain "/", "+" or "#"`
  if (value.startsWith('$')) return `${kind} ${shown} may not start with "$"`
  if (INVISIBLE.test(value)) return `${kind} ${shown} may not contain spaces, control or invisible characters`
  return undefined
}

/**
 * The common case, decided without the Unicode patterns: 1-256 printable
 * ASCII characters (one byte each), none of them `/`, `+` or `#`, and no
 * leading `$`. The broker runs this on every CONNECT.
 */
function plainAscii(value: string): boolean {
  if (value.length > MAX_MQTT_IDENTIFIER_BYTES || value.charCodeAt(0) === 0x24) return false
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c <= 0x20 || c >= 0x7f || c === 0x2f || c === 0x2b || c === 0x23) return false
  }
  return true
}
