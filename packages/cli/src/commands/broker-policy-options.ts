import { InvalidArgumentError } from 'commander'
import type { Command } from 'commander'
import { NO_EXPIRATION, isValidTopicFilter, parseDuration } from '@mqtt-oidc/core'
import type { Acl } from '@mqtt-oidc/core'
import type { AclTemplateInput, BrokerPolicyInput } from '@mqtt-oidc/client'
import { CliError } from '../lib/cli-error.js'
import { collect, parseExpiration, parseTopicFilter } from '../lib/option-parsers.js'

// `broker create|update` options for the broker's ACL and policy, and
// `broker issue` options for a credential's ACL and not-before. Parsers run
// while commander reads the line, so a bad value costs no request.

export interface PolicyOptions {
  aclPub?: string[]
  aclSub?: string[]
  clientIdMode?: 'claim' | 'generated'
  aclTemplate?: AclTemplateInput[]
  clearAclTemplates?: boolean
  maxLifetime?: number | typeof NONE
  allowedIssuer?: string[]
  anyIssuer?: boolean
  rateLimit?: { requests: number; windowSeconds: number } | typeof NONE
  profile?: BrokerPolicyInput['profile']
  alg?: BrokerPolicyInput['alg']
  resourceServerId?: string | typeof NONE
}

// commander turns a parser's null into '' (an empty option value), so "clear this field" travels as NONE until policyFrom
const NONE = 'none' as const
const orNull = <T>(value: T | typeof NONE | undefined): T | null | undefined => (value === NONE ? null : value)

/** Adds the broker ACL and policy options to `broker create` / `broker update`. */
export function addPolicyOptions(cmd: Command): Command {
  return cmd
    .option('--acl-pub <filter>', 'broker ACL: a topic filter its exchanged tokens may publish to (repeatable; ${clientid} ${username} allowed)', collect(parseTopicFilter))
    .option('--acl-sub <filter>', 'broker ACL: a topic filter its exchanged tokens may subscribe to (repeatable)', collect(parseTopicFilter))
    .option('--client-id-mode <mode>', 'claim (client id from the ID token) or generated (a new ULID per exchange)', oneOf('--client-id-mode', ['claim', 'generated'] as const))
    .option('--acl-template <json>', 'ACL template, JSON {"when":{"group"?,"claim"?,"value"?},"acl":{"pub":[],"sub":[]}} (repeatable, first match wins; replaces the list)', collect(parseAclTemplate))
    .option('--clear-acl-templates', 'remove every ACL template (the broker ACL applies to all)')
    .option('--max-lifetime <duration>', 'longest lifetime of exchanged tokens: 30s, 15m, 48h, 7d, seconds, or -1 for the exchange maximum only', parseMaxLifetime)
    .option('--allowed-issuer <url>', 'only this OIDC issuer\'s subject tokens are exchanged for it (repeatable; replaces the list)', collect(parseIssuerUrl))
    .option('--any-issuer', 'accept every trusted issuer (clears --allowed-issuer)')
    .option('--rate-limit <n/window>', 'token exchanges per subject, e.g. 10/1m or 100/3600; "none" for unlimited', parseRateLimit)
    .option('--profile <profile>', 'token shape: default, emqx (EMQX acl claim) or rabbitmq (RS256, aud = resource server id, scope claim)', oneOf('--profile', ['default', 'emqx', 'rabbitmq'] as const))
    .option('--alg <alg>', 'signing algorithm: EdDSA, ES256, RS256, or HS256 (a per-broker secret, printed once)', oneOf('--alg', ['EdDSA', 'ES256', 'RS256', 'HS256'] as const))
    .option('--resource-server-id <id>', 'rabbitmq profile: RabbitMQ\'s auth_oauth2.resource_server_id ("none" = the broker id)', parseResourceServerId)
}

/** The broker ACL (`--acl-pub/--acl-sub`: naming one side leaves the other empty), or undefined. */
export function aclFrom(opts: { aclPub?: string[]; aclSub?: string[] }): Acl | undefined {
  if (opts.aclPub === undefined && opts.aclSub === undefined) return undefined
  return { pub: opts.aclPub ?? [], sub: opts.aclSub ?? [] }
}

/** The policy patch the options ask for, or undefined when they name none. */
export function policyFrom(opts: PolicyOptions): BrokerPolicyInput | undefined {
  if (opts.clearAclTemplates && opts.aclTemplate) throw new CliError('give --acl-template or --clear-acl-templates, not both')
  if (opts.anyIssuer && opts.allowedIssuer) throw new CliError('give --allowed-issuer or --any-issuer, not both')
  const policy: Record<string, unknown> = {
    clientIdMode: opts.clientIdMode,
    aclTemplates: opts.clearAclTemplates ? [] : opts.aclTemplate,
    maxLifetime: orNull(opts.maxLifetime),
    allowedIssuers: opts.anyIssuer ? [] : opts.allowedIssuer,
    rateLimit: orNull(opts.rateLimit),
    profile: opts.profile,
    alg: opts.alg,
    resourceServerId: orNull(opts.resourceServerId),
  }
  const set = Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined))
  return Object.keys(set).length > 0 ? set as BrokerPolicyInput : undefined
}

function oneOf<T extends string>(flag: string, values: readonly T[]): (value: string) => T {
  return (value) => {
    const found = values.find((v) => v.toLowerCase() === value.toLowerCase())
    if (found === undefined) throw new InvalidArgumentError(`${flag} must be one of ${values.join(', ')}.`)
    return found
  }
}

function parseAclTemplate(value: string): AclTemplateInput {
  let json: unknown
  try {
    json = JSON.parse(value)
  } catch {
    throw new InvalidArgumentError('not JSON; e.g. \'{"when":{"group":"operators"},"acl":{"pub":["devices/${clientid}/#"],"sub":[]}}\'.')
  }
  const t = json as { when?: unknown; acl?: { pub?: unknown; sub?: unknown } }
  const filters = (v: unknown): v is string[] => Array.isArray(v) && v.every((f) => typeof f === 'string' && isValidTopicFilter(f))
  if (typeof t !== 'object' || t === null || typeof t.when !== 'object' || t.when === null || !filters(t.acl?.pub) || !filters(t.acl?.sub)) {
    throw new InvalidArgumentError('an ACL template is {"when":{...},"acl":{"pub":[filters],"sub":[filters]}} with valid topic filters.')
  }
  return json as AclTemplateInput
}

function parseMaxLifetime(value: string): number | typeof NONE {
  const seconds = parseExpiration(value)
  if (seconds === NO_EXPIRATION) return NONE
  if (seconds < 1) throw new InvalidArgumentError('must be at least 1 second, or -1 for the exchange maximum only.')
  return seconds
}

function parseIssuerUrl(value: string): string {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) throw new InvalidArgumentError('an issuer is an http(s) URL.')
  return value
}

function parseRateLimit(value: string): { requests: number; windowSeconds: number } | typeof NONE {
  if (value === NONE) return NONE
  const m = /^(\d{1,9})\/(.+)$/.exec(value)
  let windowSeconds = Number.NaN
  try {
    if (m) windowSeconds = parseDuration(m[2]!)
  } catch {
    // reported below
  }
  const requests = Number(m?.[1])
  if (!m || !(requests >= 1) || !(windowSeconds >= 1 && windowSeconds <= 86400)) {
    throw new InvalidArgumentError('use <requests>/<window>, e.g. 10/1m or 100/3600 (window 1s..1d), or "none".')
  }
  return { requests, windowSeconds }
}

function parseResourceServerId(value: string): string | typeof NONE {
  if (value === NONE) return NONE
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(value)) throw new InvalidArgumentError('letters, digits, _ and - only (RabbitMQ scopes are <id>.<permission>).')
  return value
}

/** `--not-before`: a duration from now (`10m`, `2h`), an ISO 8601 time, or epoch seconds; sent as given (epoch seconds as a number). */
export function parseNotBefore(value: string): number | string {
  if (/^\d{9,}$/.test(value)) return Number(value)
  // the exchange reads a bare number as epoch seconds, so a short one (seconds from now) gets its unit
  if (/^\d{1,8}$/.test(value)) return `${value}s`
  let seconds: number | undefined
  try {
    seconds = parseDuration(value)
  } catch {
    // not a duration: a time?
  }
  if (seconds !== undefined && seconds !== NO_EXPIRATION) return value
  if (seconds === undefined && /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value))) return value
  throw new InvalidArgumentError('use a duration from now (10m, 2h, 1d), an ISO 8601 time (2030-01-01T00:00:00Z) or epoch seconds.')
}

/** `--acl-pub/--acl-sub` of `broker issue`. */
export function addCredentialAclOptions(cmd: Command): Command {
  return cmd
    .option('--acl-pub <filter>', 'topic filter the credentials may publish to (repeatable; default: # both ways unless an --acl-* is given)', collect(parseTopicFilter))
    .option('--acl-sub <filter>', 'topic filter the credentials may subscribe to (repeatable)', collect(parseTopicFilter))
    .option('--not-before <time|duration>', 'credentials become valid later: a duration from now (10m), an ISO 8601 time, or epoch seconds', parseNotBefore)
}
