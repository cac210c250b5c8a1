import type { BrokerRecord } from '@mqtt-oidc/client'
import { writeJson, writeLine, type CliIo } from './cli-io.js'
import { localTime, wantsJson, writeTable, type Cell } from './output.js'

/** The policy fields a broker record carries (the exchange's BrokerPolicy, read defensively: the record is the server's JSON). */
interface PolicyFields {
  clientIdMode?: string
  aclTemplates?: unknown[]
  maxLifetime?: number | null
  rateLimit?: { requests: number; windowSeconds: number } | null
  profile?: string
  alg?: string
  allowedIssuers?: string[]
  resourceServerId?: string | null
}

/**
 * A broker as `broker create|show|update` print it. JSON (the admin API's
 * record, hmacSecret included when the answer has one) with --json or into
 * a pipe; at a terminal one `field  value` line each, like `users show`, the
 * ACL and every policy field on its own line. An HS256 broker's secret comes
 * last, said once, with a warning on stderr: this answer is the only one
 * that ever holds it.
 */
export function writeBroker(io: CliIo, broker: BrokerRecord, opts: { json?: boolean }): void {
  if (wantsJson(opts, io)) return writeJson(io.stdout, broker)
  const acl = (broker.acl ?? {}) as { pub?: string[]; sub?: string[] }
  const p = (broker.policy ?? {}) as PolicyFields
  const list = (items: readonly string[] | undefined, none?: string, separator = ', '): string | undefined =>
    items === undefined || items.length === 0 ? none : items.join(separator)
  const rows: Array<[string, Cell]> = [
    ['id', broker.id],
    ['url', broker.url as string | null],
    ['expiration', broker.expiration === null ? "the exchange's default" : brokerSeconds(broker.expiration)],
    ['acl pub', list(acl.pub)],
    ['acl sub', list(acl.sub)],
    ['client id mode', p.clientIdMode],
    [
      'acl templates',
      list(
        p.aclTemplates?.map((t) => JSON.stringify(t)),
        undefined,
        '; ',
      ),
    ],
    ['max lifetime', p.maxLifetime === null ? "the exchange's maximum" : brokerSeconds(p.maxLifetime)],
    ['rate limit', p.rateLimit ? `${p.rateLimit.requests} per ${p.rateLimit.windowSeconds}s` : p.rateLimit === null ? 'none' : undefined],
    ['profile', p.profile],
    ['alg', p.alg],
    ['allowed issuers', list(p.allowedIssuers, 'any trusted issuer')],
    ['resource server id', p.resourceServerId],
    ['created', localTime(broker.createdAt as number | undefined)],
    ['updated', localTime(broker.updatedAt as number | undefined)],
  ]
  const secret = typeof broker.hmacSecret === 'string' ? broker.hmacSecret : undefined
  writeTable(io.stdout, ['FIELD', 'VALUE'], secret === undefined ? rows : [...rows, ['hmac secret', secret]])
  if (secret !== undefined) {
    writeLine(io.stderr, 'The HS256 secret is shown only now: the broker verifies its tokens with it; store it where only the broker reads it.')
  }
}

/** A broker's seconds field (expiration, max lifetime) for people: `86400s`, `none` for -1, "-" when unset. */
export function brokerSeconds(value: unknown): string | undefined {
  if (typeof value !== 'number') return undefined
  return value === -1 ? 'none' : `${value}s`
}
