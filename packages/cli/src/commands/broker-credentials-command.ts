import { InvalidArgumentError, Option } from 'commander'
import type { Command } from 'commander'
import { parseDuration } from '@mqtt-oidc/core'
import type { AdminClient, CredentialFilter, CredentialPage } from '@mqtt-oidc/client'
import { writeJson, writeLine } from '../lib/cli-io.js'
import type { CliIo } from '../lib/cli-io.js'
import { nonEmpty, parseBrokerId } from '../lib/option-parsers.js'
import { addGlobalOptions } from '../lib/settings.js'
import { addJsonOption, localTime, wantsJson, writeTable } from '../lib/output.js'

/** Most records one page may ask for (the exchange's limit too). */
const MAX_PAGE = 1000

/**
 * `broker credentials list <broker>`: the credential records the exchange
 * keeps (client id, jti, when issued, when it expires, whether revoked),
 * newest first, filtered. A table on a terminal, JSON (the admin API's
 * `{credentials, next}`) with --json or into a pipe.
 */
export function addBrokerCredentialsCommand(broker: Command, io: CliIo, admin: (cmd: Command) => AdminClient | Promise<AdminClient>, help: string): void {
  const credentials = broker.command('credentials').description('the credentials issued for a broker: list them (admin)')
  addJsonOption(
    addGlobalOptions(credentials.command('list'), { clientId: false })
      .description("list a broker's credentials, newest first: client id, jti, issued, expires, revoked (a table on a terminal)")
      .addHelpText('after', help)
      .argument('<broker>', 'broker id', parseBrokerId)
      .option('--client-id <id>', 'exactly this MQTT client id', nonEmpty)
      .option('--jti <jti>', 'exactly this jti', nonEmpty)
      .option('--search <text>', 'a part of the client id or of the jti', nonEmpty)
      .addOption(new Option('--state <state>', 'live (neither expired nor revoked), expired or revoked').choices(['live', 'expired', 'revoked']))
      .addOption(
        new Option('--source <source>', "admin (issued with `broker issue` or the console) or exchange (a sign-in's token exchange)").choices([
          'admin',
          'exchange',
        ]),
      )
      .option('--issued-after <time>', 'issued after: epoch seconds, an ISO 8601 time, or a duration ago (2h, 7d)', parsePointInTime('--issued-after'))
      .option('--issued-before <time>', 'issued before (same forms)', parsePointInTime('--issued-before'))
      .option('--expires-after <time>', 'expiring after (same forms; a credential without expiry always is)', parsePointInTime('--expires-after'))
      .option('--expires-before <time>', 'expiring before (same forms)', parsePointInTime('--expires-before'))
      .option('--limit <n>', `how many, 1..${MAX_PAGE} (default 100)`, parsePageSize)
      .option('--cursor <next>', 'continue a listing: the `next` of the previous page', nonEmpty),
  ).action(async (id: string, opts: ListOptions, cmd: Command) => {
    const page = await (await admin(cmd)).listCredentials(id, filterOf(opts))
    if (wantsJson(opts, io)) return writeJson(io.stdout, page)
    printTable(page, io)
    if (page.next !== null) writeLine(io.stderr, `More credentials match: add --cursor ${page.next} for the next page, or narrow the filters.`)
  })
}

interface ListOptions {
  json?: boolean
  clientId?: string
  jti?: string
  search?: string
  state?: 'live' | 'expired' | 'revoked'
  source?: 'admin' | 'exchange'
  issuedAfter?: number
  issuedBefore?: number
  expiresAfter?: number
  expiresBefore?: number
  limit?: number
  cursor?: string
}

function filterOf(opts: ListOptions): CredentialFilter {
  // A revoked credential is `revoked` whether or not it has expired since; `expired` means expired and never revoked.
  const state =
    opts.state === 'live'
      ? { revoked: false, expired: false }
      : opts.state === 'expired'
        ? { revoked: false, expired: true }
        : opts.state === 'revoked'
          ? { revoked: true }
          : {}
  return {
    clientId: opts.clientId,
    jti: opts.jti,
    search: opts.search,
    source: opts.source,
    ...state,
    issuedAfter: opts.issuedAfter,
    issuedBefore: opts.issuedBefore,
    expiresAfter: opts.expiresAfter,
    expiresBefore: opts.expiresBefore,
    limit: opts.limit,
    cursor: opts.cursor,
  }
}

function printTable(page: CredentialPage, io: CliIo): void {
  if (page.credentials.length === 0) return writeLine(io.stderr, 'No credentials match.')
  writeTable(
    io.stdout,
    ['CLIENT ID', 'JTI', 'ISSUED', 'EXPIRES', 'REVOKED', 'SOURCE'],
    page.credentials.map((c) => [
      c.clientId,
      c.jti,
      localTime(c.issuedAt),
      c.expiresAt === null ? 'never' : `${localTime(c.expiresAt)}${c.state === 'expired' ? ' (expired)' : ''}`,
      localTime(c.revokedAt),
      c.source,
    ]),
  )
}

function parsePageSize(value: string): number {
  const n = /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN
  if (!(n >= 1 && n <= MAX_PAGE)) throw new InvalidArgumentError(`use a whole number from 1 to ${MAX_PAGE}.`)
  return n
}

/** Epoch seconds, an ISO 8601 time, or a duration before now (`2h`: two hours ago), as epoch seconds. */
function parsePointInTime(option: string): (value: string) => number {
  return (value) => {
    if (/^\d{1,12}$/.test(value)) return Number(value)
    if (/^\d{4}-\d{2}-\d{2}/.test(value) && Number.isFinite(Date.parse(value))) return Math.floor(Date.parse(value) / 1000)
    let ago = Number.NaN
    try {
      ago = parseDuration(value)
    } catch {
      // reported below
    }
    if (ago >= 0) return Math.floor(Date.now() / 1000) - ago
    throw new InvalidArgumentError(`${option} takes epoch seconds, an ISO 8601 time such as 2030-01-31T12:00:00Z, or a duration ago such as 2h or 7d.`)
  }
}
