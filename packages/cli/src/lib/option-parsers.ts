import { InvalidArgumentError } from 'commander'
import { brokerIdSchema, isValidTopicFilter, isValidTopicName, parseDuration } from '@mqtt-oidc/core'

// Commander runs these while parsing, before any action: a bad value is
// reported (exit 1) before a single request is made.

/** Most credentials one `broker issue` may ask for (the exchange's limit too). */
export const MAX_CREDENTIALS = 100

export function parseCredentialCount(value: string): number {
  const n = /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN
  if (!(n >= 1 && n <= MAX_CREDENTIALS)) {
    throw new InvalidArgumentError(`--number must be a whole number from 1 to ${MAX_CREDENTIALS}; nothing was issued.`)
  }
  return n
}

export function parseQos(value: string): 0 | 1 | 2 {
  if (value === '0' || value === '1' || value === '2') return Number(value) as 0 | 1 | 2
  throw new InvalidArgumentError('QoS must be 0, 1 or 2.')
}

export function parsePositiveInt(value: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a whole number of at least 1.')
  return Number(value)
}

/** A duration (`30s`, `15m`, `48h`, `7d`, seconds) or `-1`, as seconds (-1 = none). */
export function parseExpiration(value: string): number {
  try {
    return parseDuration(value)
  } catch {
    throw new InvalidArgumentError('use a duration such as 30s, 15m, 48h or 7d, a number of seconds, or -1 for none.')
  }
}

/** A duration (`5s`, `1m`, `48h`, seconds) as whole seconds, at least 1; no `-1`. */
export function parseDurationSeconds(value: string): number {
  return durationSeconds(value, false)
}

/** parseDurationSeconds, or `0`. */
export function parseDurationSecondsOrZero(value: string): number {
  return value === '0' ? 0 : durationSeconds(value, true)
}

// Commander passes the previous value as a second argument: the public parsers take one.
function durationSeconds(value: string, zeroAllowed: boolean): number {
  let seconds: number
  try {
    seconds = parseDuration(value)
  } catch {
    seconds = Number.NaN
  }
  if (!(seconds >= 1)) {
    throw new InvalidArgumentError(`use a duration such as 5s or 1m, or a whole number of seconds${zeroAllowed ? ', or 0' : ' (at least 1)'}.`)
  }
  return seconds
}

export function parseBrokerId(value: string): string {
  const parsed = brokerIdSchema.safeParse(value)
  if (!parsed.success) throw new InvalidArgumentError('a broker id is 1-63 lowercase letters, digits or dashes, starting with a letter or digit.')
  return parsed.data
}

export function parseTopicName(value: string): string {
  if (!isValidTopicName(value)) throw new InvalidArgumentError('not a valid MQTT topic to publish to (no + or #, not empty).')
  return value
}

export function parseTopicFilter(value: string): string {
  if (!isValidTopicFilter(value)) throw new InvalidArgumentError('not a valid MQTT topic filter (# only last, + and # fill a whole level).')
  return value
}

/** For repeatable options: `--jti a --jti b` -> ['a', 'b']. */
export function collect<T>(parse: (v: string) => T): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => [...(previous ?? []), parse(value)]
}

export function nonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must not be empty.')
  return value
}

/** `-V`: MQTT 3.1.1 (`3.1.1`, `311`, `4`) or MQTT 5 (`5`), as mqtt.js's `protocolVersion`. */
export function parseMqttVersion(value: string): 4 | 5 {
  if (['3.1.1', '311', '4'].includes(value)) return 4
  if (value === '5') return 5
  throw new InvalidArgumentError('MQTT version must be 3.1.1 or 5.')
}
