import { Command } from 'commander'
import type { AdminClient, Revocation } from '@mqtt-oidc/client'
import { CliError } from '../lib/cli-error.js'
import { writeJson, writeLine } from '../lib/cli-io.js'
import type { CliIo } from '../lib/cli-io.js'
import { confirm } from '../lib/confirm.js'
import { collect, nonEmpty, parseBrokerId, parseCredentialCount, parseExpiration } from '../lib/option-parsers.js'
import { localTime, wantsJson, writeTable } from '../lib/output.js'
import { addGlobalOptions } from '../lib/settings.js'
import { aclFrom, addCredentialAclOptions, addPolicyOptions, policyFrom } from './broker-policy-options.js'
import type { PolicyOptions } from './broker-policy-options.js'
import { addBrokerCredentialsCommand } from './broker-credentials-command.js'

const ADMIN_HELP = `
Admin commands authenticate as the admin client found in <data-dir>/admin-client.json
(written by \`pnpm start\`). --issuer / --exchange (or their env vars) override the URLs in it.`

/** `broker ...`: the exchange's admin API. */
export function addBrokerCommands(program: Command, io: CliIo): void {
  const broker = program.command('broker').description('manage brokers, credentials and revocations (admin)').addHelpText('after', ADMIN_HELP)
  // Tables on a terminal, JSON otherwise or with --json (see wantsJson); `delete` says what it did on stderr
  // unless JSON is asked for, so a script's stdout stays empty as before.
  const leaf = (name: string, description: string, options?: { clientId?: boolean }): Command =>
    addGlobalOptions(broker.command(name), { clientId: false, ...options }).description(description).addHelpText('after', ADMIN_HELP)
      .option('--json', 'JSON output on stdout, epoch seconds (what a pipe or file gets without it); delete prints {"id","deleted","revoked"}')
  // Loaded when a command runs, never for --help: the client library is most of the CLI's start time.
  const admin = async (cmd: Command): Promise<AdminClient> => (await import('../lib/admin-client-for.js')).adminClientFor(cmd, io)

  addPolicyOptions(leaf('create', 'create a broker (with its ACL and policy; an HS256 broker\'s secret is printed once, as hmacSecret)')
    .argument('<id>', 'broker id', parseBrokerId)
    .option('--expiration <duration>', 'default expiration of its tokens: 30s, 15m, 48h, 7d, seconds, or -1 for none', parseExpiration)
    .option('--url <url>', 'where clients reach it (informational, e.g. mqtt://localhost:1883)'))
    .action(async (id: string, opts: BrokerOptions, cmd: Command) => {
      writeJson(io.stdout, await (await admin(cmd)).createBroker(id, { expiration: opts.expiration, url: opts.url, acl: aclFrom(opts), policy: policyFrom(opts) }))
    })

  leaf('list', 'list brokers (a table at a terminal, else JSON)').action(async (opts: { json?: boolean }, cmd: Command) => {
    const brokers = await (await admin(cmd)).listBrokers()
    if (wantsJson(opts, io)) return writeJson(io.stdout, brokers)
    writeTable(io.stdout, ['BROKER', 'EXPIRATION', 'PROFILE', 'ALG', 'URL'], brokers.map((b) => {
      const policy = (b.policy ?? {}) as { profile?: string; alg?: string }
      return [b.id, seconds(b.expiration), policy.profile, policy.alg, b.url as string | undefined]
    }))
  })

  leaf('show', 'one broker with its ACL and policy (JSON)')
    .argument('<id>', 'broker id', parseBrokerId).action(async (id: string, _opts: unknown, cmd: Command) => {
    writeJson(io.stdout, await (await admin(cmd)).getBroker(id))
  })

  addPolicyOptions(leaf('update', "change a broker's default expiration (-1 clears it), URL, ACL or policy (only the fields given change)")
    .argument('<id>', 'broker id', parseBrokerId)
    .option('--expiration <duration>', '30s, 15m, 48h, 7d, seconds, or -1 to clear', parseExpiration)
    .option('--url <url>', 'where clients reach it'))
    .action(async (id: string, opts: BrokerOptions, cmd: Command) => {
      const acl = aclFrom(opts)
      const policy = policyFrom(opts)
      if (opts.expiration === undefined && opts.url === undefined && acl === undefined && policy === undefined) {
        throw new CliError('nothing to update: give --expiration, --url, --acl-pub/--acl-sub or a policy option (see --help)')
      }
      writeJson(io.stdout, await (await admin(cmd)).updateBroker(id, { expiration: opts.expiration, url: opts.url, acl, policy }))
    })

  leaf('delete', 'delete a broker, after asking (--yes when not at a terminal); one with live credentials needs --force, and its credentials are all revoked')
    .argument('<id>', 'broker id', parseBrokerId)
    .option('--force', 'delete even with live credentials: they are all revoked (sessions closed) and stay refused until they expire')
    .option('-y, --yes', 'do not ask for confirmation (needed when not at a terminal)')
    .action(async (id: string, opts: { json?: boolean; force?: boolean; yes?: boolean }, cmd: Command) => {
      const api = await admin(cmd)
      await api.getBroker(id) // an unknown broker is refused before anyone is asked
      await confirm(io, `Delete broker ${id}${opts.force ? ', revoking all its live credentials' : ''}?`, opts, `broker delete ${id}`)
      const { AdminApiError } = await import('@mqtt-oidc/client')
      const deletion = await api.deleteBroker(id, { force: opts.force }).catch((err: unknown) => {
        if (err instanceof AdminApiError && err.status === 409 && !opts.force) {
          throw new CliError(`${err.error_description ?? err.message} Run \`mqtt-oidc broker delete ${id} --force${opts.yes ? ' --yes' : ''}\` to delete it.`)
        }
        throw err
      })
      if (opts.json) writeJson(io.stdout, deletion)
      else if (deletion.revoked === 0) writeLine(io.stderr, `Deleted broker ${id}.`)
      else writeLine(io.stderr, `Deleted broker ${id} and revoked its ${deletion.revoked} live credential${deletion.revoked === 1 ? '' : 's'}: they stay refused until they expire.`)
    })

  addCredentialAclOptions(leaf('issue', 'issue credentials: a table (client id, jti, not before, expires) and the tokens at a terminal; {"<clientid>": "<token>", ...} (like Cloudflare Pub/Sub) in a pipe; --json adds each jti, nbf and exp')
    .argument('<id>', 'broker id', parseBrokerId))
    .option('-n, --number <n>', 'how many credentials, 1..100 (default 1)', parseCredentialCount)
    .option('--client-id <id>', 'MQTT client id to issue for (repeatable; default: generated, cred-<lower-case ULID>)', collect(nonEmpty))
    .option('--expiration <duration>', '30s, 15m, 48h, 7d, seconds, or -1 for no expiry', parseExpiration)
    .option('--username <name>', 'username claim of the credentials', nonEmpty)
    .option('--allow-owned-client-id', 'issue even for a --client-id an account or subject owns: the credential takes over the owner\'s MQTT session')
    .action(async (id: string, opts: IssueOptions, cmd: Command) => {
      if (opts.clientId !== undefined && opts.clientId.length > 100) throw new CliError('at most 100 --client-id values; nothing was issued')
      if (opts.clientId !== undefined && opts.number !== undefined && opts.number !== opts.clientId.length) {
        throw new CliError(`--number ${opts.number} does not match the ${opts.clientId.length} --client-id values; give one or the other`)
      }
      const issued = await (await admin(cmd)).issueCredentials(id, {
        number: opts.number,
        clientIds: opts.clientId,
        expiration: opts.expiration,
        username: opts.username,
        acl: aclFrom(opts),
        notBefore: opts.notBefore,
        ...(opts.allowOwnedClientId ? { allowOwnedClientIds: true } : {}),
      })
      await printIssued(io, issued, opts)
    })

  leaf('revoke', 'revoke credentials by jti, or every live credential of a client id; prints {"revision","revoked":[jtis]}')
    .argument('<id>', 'broker id', parseBrokerId)
    .option('--jti <jti>', 'jti to revoke (repeatable)', collect(nonEmpty))
    .option('--client-id <id>', 'revoke every live credential of this MQTT client id (repeatable); see `broker credentials list`', collect(nonEmpty))
    .action(async (id: string, opts: { jti?: string[]; clientId?: string[] }, cmd: Command) => {
      if (opts.clientId === undefined) {
        if (opts.jti === undefined) throw new CliError('give --jti or --client-id (see `mqtt-oidc broker revoke --help`); nothing was revoked')
        return writeJson(io.stdout, await (await admin(cmd)).revoke(id, opts.jti))
      }
      const change = await (await admin(cmd)).revokeClientIds(id, opts.clientId, opts.jti)
      writeJson(io.stdout, change)
      if (change.revoked.length === 0) writeLine(io.stderr, `Nothing was revoked: ${opts.clientId.join(', ')} had no live credential${opts.jti ? ' and the jtis were revoked already' : ''}.`)
    })

  addBrokerCredentialsCommand(broker, io, admin, ADMIN_HELP)

  leaf('unrevoke', 'lift revocations by jti')
    .argument('<id>', 'broker id', parseBrokerId)
    .requiredOption('--jti <jti>', 'jti to unrevoke (repeatable)', collect(nonEmpty))
    .action(async (id: string, opts: { jti: string[] }, cmd: Command) => {
      writeJson(io.stdout, await (await admin(cmd)).unrevoke(id, opts.jti))
    })

  leaf('feed-credential', 'issue the broker\'s revocation-feed credential, after asking (--yes when not at a terminal): the previous one stops working at once; printed once, or written to --out')
    .argument('<id>', 'broker id', parseBrokerId)
    .option('--out <file>', 'write the credential to this file (mode 0600) for the broker\'s MQTT_OIDC_BROKER_FEED_CREDENTIAL_FILE instead of printing it')
    .option('-y, --yes', 'do not ask for confirmation (needed when not at a terminal)')
    .action(async (id: string, opts: { out?: string; yes?: boolean }, cmd: Command) => {
      const api = await admin(cmd)
      await api.getBroker(id) // an unknown broker is refused before anyone is asked
      await confirm(io, `Issue a new feed credential for ${id}? Its previous one stops working at once (a broker still using it polls until it reads the new one).`, opts, `broker feed-credential ${id}`)
      const issued = await api.issueFeedCredential(id)
      if (opts.out === undefined) return writeJson(io.stdout, issued)
      const { writeSecretFile } = await import('@mqtt-oidc/core')
      writeSecretFile(opts.out, `${issued.feedCredential}\n`)
      writeJson(io.stdout, { broker: issued.broker, file: opts.out })
    })

  leaf('show-revocations', 'list revoked jtis (a table at a terminal, else JSON)')
    .argument('<id>', 'broker id', parseBrokerId).action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
    const revocations: Revocation[] = await (await admin(cmd)).listRevocations(id)
    if (wantsJson(opts, io)) return writeJson(io.stdout, revocations)
    if (revocations.length === 0) return writeLine(io.stderr, `No revocations on ${id}.`)
    writeTable(io.stdout, ['JTI', 'REVOKED', 'EXPIRES'], revocations.map((r) => [r.jti, localTime(r.revokedAt), localTime(r.expiresAt) ?? 'never']))
  })
}

interface BrokerOptions extends PolicyOptions {
  expiration?: number
  url?: string
}

interface IssueOptions {
  json?: boolean
  number?: number
  clientId?: string[]
  allowOwnedClientId?: boolean
  expiration?: number
  username?: string
  aclPub?: string[]
  aclSub?: string[]
  notBefore?: number | string
}

/** A broker's default expiration (seconds, -1 or absent) for a table. */
function seconds(value: unknown): string | undefined {
  if (typeof value !== 'number') return undefined
  return value === -1 ? 'none' : `${value}s`
}

/**
 * The issued credentials. In a pipe: the Cloudflare map, as always. With
 * --json: each client id's token with its jti, nbf and exp (epoch seconds,
 * null when absent), so revoking never means decoding a JWT by hand. At a
 * terminal: a table, then one `<clientid> <token>` line each.
 */
async function printIssued(io: CliIo, issued: Record<string, string>, opts: { json?: boolean }): Promise<void> {
  if (!opts.json && wantsJson(opts, io)) return writeJson(io.stdout, issued)
  const { decodeJwtPayload } = await import('@mqtt-oidc/jose')
  const rows = Object.entries(issued).map(([clientId, token]) => {
    const claims = decodeJwtPayload(token, 'the issued token')
    const num = (v: unknown): number | null => (typeof v === 'number' ? v : null)
    return { clientId, token, jti: String(claims.jti), notBefore: num(claims.nbf), expiresAt: num(claims.exp) }
  })
  if (opts.json) return writeJson(io.stdout, Object.fromEntries(rows.map(({ clientId, ...rest }) => [clientId, rest])))
  writeTable(io.stdout, ['CLIENT ID', 'JTI', 'NOT BEFORE', 'EXPIRES'], rows.map((r) => [r.clientId, r.jti, localTime(r.notBefore), localTime(r.expiresAt) ?? 'never']))
  writeLine(io.stdout, '')
  for (const r of rows) writeLine(io.stdout, `${r.clientId} ${r.token}`)
  writeLine(io.stderr, 'Each token is the MQTT password of its client id (username: the client id, or empty). It is shown only now.')
}
