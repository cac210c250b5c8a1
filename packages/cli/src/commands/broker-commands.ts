import { Command } from 'commander'
import type { AdminClient, Revocation } from '@mqtt-oidc/client'
import { CliError } from '../lib/cli-error.js'
import { writeJson, writeLine } from '../lib/cli-io.js'
import type { CliIo } from '../lib/cli-io.js'
import { confirm } from '../lib/confirm.js'
import { collect, nonEmpty, parseBrokerId, parseCredentialCount, parseExpiration } from '../lib/option-parsers.js'
import { localTime, wantsJson, writeTable } from '../lib/output.js'
import { addGlobalOptions } from '../lib/settings.js'
import { brokerSeconds, writeBroker } from '../lib/write-broker.js'
import type { RevocationChangeView } from '../lib/write-revocation-change.js'
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
  const writeChange = async (api: AdminClient, view: RevocationChangeView): Promise<void> =>
    (await import('../lib/write-revocation-change.js')).writeRevocationChange(io, api, view)

  addPolicyOptions(leaf('create', 'create a broker with its ACL and policy, and print it (one line per field at a terminal, else JSON); an HS256 broker\'s secret is printed once (hmacSecret)')
    .argument('<id>', 'broker id', parseBrokerId)
    .option('--expiration <duration>', 'default expiration of its tokens: 30s, 15m, 48h, 7d, seconds, or -1 for none', parseExpiration)
    .option('--url <url>', 'where clients reach it (informational, e.g. mqtt://localhost:1883)'))
    .action(async (id: string, opts: BrokerOptions, cmd: Command) => {
      writeBroker(io, await (await admin(cmd)).createBroker(id, { expiration: opts.expiration, url: opts.url, acl: aclFrom(opts), policy: policyFrom(opts) }), opts)
    })

  leaf('list', 'list brokers (a table at a terminal, else JSON)').action(async (opts: { json?: boolean }, cmd: Command) => {
    const brokers = await (await admin(cmd)).listBrokers()
    if (wantsJson(opts, io)) return writeJson(io.stdout, brokers)
    writeTable(io.stdout, ['BROKER', 'EXPIRATION', 'PROFILE', 'ALG', 'URL'], brokers.map((b) => {
      const policy = (b.policy ?? {}) as { profile?: string; alg?: string }
      return [b.id, brokerSeconds(b.expiration), policy.profile, policy.alg, b.url as string | undefined]
    }))
  })

  leaf('show', 'one broker with its ACL and policy (one line per field at a terminal, else JSON)')
    .argument('<id>', 'broker id', parseBrokerId).action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
    writeBroker(io, await (await admin(cmd)).getBroker(id), opts)
  })

  addPolicyOptions(leaf('update', "change a broker's default expiration (-1 clears it), URL, ACL or policy (only the fields given change), and print it")
    .argument('<id>', 'broker id', parseBrokerId)
    .option('--expiration <duration>', '30s, 15m, 48h, 7d, seconds, or -1 to clear', parseExpiration)
    .option('--url <url>', 'where clients reach it'))
    .action(async (id: string, opts: BrokerOptions, cmd: Command) => {
      const acl = aclFrom(opts)
      const policy = policyFrom(opts)
      if (opts.expiration === undefined && opts.url === undefined && acl === undefined && policy === undefined) {
        throw new CliError('nothing to update: give --expiration, --url, --acl-pub/--acl-sub or a policy option (see --help)')
      }
      writeBroker(io, await (await admin(cmd)).updateBroker(id, { expiration: opts.expiration, url: opts.url, acl, policy }), opts)
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

  addCredentialAclOptions(leaf('issue', 'issue credentials: a table (client id, jti, not before, expires) and the tokens at a terminal; {"<clientid>": "<token>", ...} (like Cloudflare Pub/Sub) in a pipe; --json adds each jti, nbf and exp; --out keeps the tokens off the terminal')
    .argument('<id>', 'broker id', parseBrokerId))
    .option('-n, --number <n>', 'how many credentials, 1..100 (default 1)', parseCredentialCount)
    .option('--client-id <id>', 'MQTT client id to issue for (repeatable; default: generated, cred-<lower-case ULID>)', collect(nonEmpty))
    .option('--expiration <duration>', '30s, 15m, 48h, 7d, seconds, or -1 for no expiry', parseExpiration)
    .option('--username <name>', 'username claim of the credentials', nonEmpty)
    .option('--allow-owned-client-id', 'issue even for a --client-id an account or subject owns: the credential takes over the owner\'s MQTT session')
    .option('--out <file>', 'write the tokens to this new file (mode 0600) as the --json map, and print only the table (or {"file","credentials"} without tokens); a file that exists is refused before anything is issued', nonEmpty)
    .action(async (id: string, opts: IssueOptions, cmd: Command) => {
      if (opts.clientId !== undefined && opts.clientId.length > 100) throw new CliError('at most 100 --client-id values; nothing was issued')
      if (opts.clientId !== undefined && opts.number !== undefined && opts.number !== opts.clientId.length) {
        throw new CliError(`--number ${opts.number} does not match the ${opts.clientId.length} --client-id values; give one or the other`)
      }
      const api = await admin(cmd)
      const out = opts.out === undefined ? undefined : (await import('../lib/reserve-out-file.js')).reserveOutFile(opts.out)
      const issued = await api.issueCredentials(id, {
        number: opts.number,
        clientIds: opts.clientId,
        expiration: opts.expiration,
        username: opts.username,
        acl: aclFrom(opts),
        notBefore: opts.notBefore,
        ...(opts.allowOwnedClientId ? { allowOwnedClientIds: true } : {}),
      }).catch((err: unknown) => {
        out?.discard()
        throw err
      })
      await (await import('../lib/write-issued.js')).writeIssued(io, issued, opts, out)
    })

  leaf('revoke', 'revoke credentials by jti, or every live credential of a client id: a table (jti, client id, result, expires) at a terminal, else {"revision","revoked":[jtis]}')
    .argument('<id>', 'broker id', parseBrokerId)
    .option('--jti <jti>', 'jti to revoke (repeatable)', collect(nonEmpty))
    .option('--client-id <id>', 'revoke every live credential of this MQTT client id (repeatable); see `broker credentials list`', collect(nonEmpty))
    .action(async (id: string, opts: { json?: boolean; jti?: string[]; clientId?: string[] }, cmd: Command) => {
      if (opts.clientId === undefined && opts.jti === undefined) throw new CliError('give --jti or --client-id (see `mqtt-oidc broker revoke --help`); nothing was revoked')
      const api = await admin(cmd)
      const change = opts.clientId === undefined ? await api.revoke(id, opts.jti ?? []) : await api.revokeClientIds(id, opts.clientId, opts.jti)
      if (wantsJson(opts, io)) writeJson(io.stdout, change)
      else await writeChange(api, { broker: id, action: 'revoke', requested: opts.jti ?? [], changed: change.revoked })
      if (change.revoked.length > 0) return
      if (opts.clientId !== undefined) writeLine(io.stderr, `Nothing was revoked: ${opts.clientId.join(', ')} had no live credential${opts.jti ? ' and the jtis were revoked already' : ''}.`)
      else if (!wantsJson(opts, io)) writeLine(io.stderr, `Nothing was revoked: ${opts.jti?.length === 1 ? 'the jti was' : 'the jtis were'} revoked already.`)
    })

  addBrokerCredentialsCommand(broker, io, admin, ADMIN_HELP)

  leaf('unrevoke', 'lift revocations by jti: a table (jti, client id, result, expires) at a terminal, else {"revision","unrevoked":[jtis]}')
    .argument('<id>', 'broker id', parseBrokerId)
    .requiredOption('--jti <jti>', 'jti to unrevoke (repeatable)', collect(nonEmpty))
    .action(async (id: string, opts: { json?: boolean; jti: string[] }, cmd: Command) => {
      const api = await admin(cmd)
      const change = await api.unrevoke(id, opts.jti)
      if (wantsJson(opts, io)) return writeJson(io.stdout, change)
      await writeChange(api, { broker: id, action: 'unrevoke', requested: opts.jti, changed: change.unrevoked })
      if (change.unrevoked.length === 0) writeLine(io.stderr, `Nothing was unrevoked: ${opts.jti.length === 1 ? 'the jti was' : 'no jti given was'} revoked.`)
    })

  leaf('feed-credential', 'issue the broker\'s revocation-feed credential, after asking (--yes when not at a terminal): the previous one stops working at once; printed once (field lines at a terminal, else {"broker","feedCredential"}), or written to --out')
    .argument('<id>', 'broker id', parseBrokerId)
    .option('--out <file>', 'write the credential to this file (mode 0600) for the broker\'s MQTT_OIDC_BROKER_FEED_CREDENTIAL_FILE instead of printing it')
    .option('-y, --yes', 'do not ask for confirmation (needed when not at a terminal)')
    .action(async (id: string, opts: { json?: boolean; out?: string; yes?: boolean }, cmd: Command) => {
      const api = await admin(cmd)
      await api.getBroker(id) // an unknown broker is refused before anyone is asked
      await confirm(io, `Issue a new feed credential for ${id}? Its previous one stops working at once (a broker still using it polls until it reads the new one).`, opts, `broker feed-credential ${id}`)
      const issued = await api.issueFeedCredential(id)
      if (opts.out !== undefined) {
        const { writeSecretFile } = await import('@mqtt-oidc/core')
        writeSecretFile(opts.out, `${issued.feedCredential}\n`)
      }
      if (wantsJson(opts, io)) return writeJson(io.stdout, opts.out === undefined ? issued : { broker: issued.broker, file: opts.out })
      if (opts.out !== undefined) return writeLine(io.stderr, `Wrote the feed credential of ${id} to ${opts.out} (mode 0600): the broker reads it from MQTT_OIDC_BROKER_FEED_CREDENTIAL_FILE.`)
      writeTable(io.stdout, ['FIELD', 'VALUE'], [['broker', issued.broker], ['feed credential', issued.feedCredential]])
      writeLine(io.stderr, 'The feed credential is shown only now: put it in a file of mode 0600 for the broker\'s MQTT_OIDC_BROKER_FEED_CREDENTIAL_FILE (--out does that).')
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
  json?: boolean
  expiration?: number
  url?: string
}

interface IssueOptions {
  json?: boolean
  out?: string
  number?: number
  clientId?: string[]
  allowOwnedClientId?: boolean
  expiration?: number
  username?: string
  aclPub?: string[]
  aclSub?: string[]
  notBefore?: number | string
}
