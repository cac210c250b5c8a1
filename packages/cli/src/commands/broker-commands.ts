import { Command } from 'commander'
import { writeSecretFile } from '@mqtt-oidc/core'
import { createAdminClient } from '@mqtt-oidc/client'
import { AdminApiError } from '@mqtt-oidc/client'
import type { AdminClient } from '@mqtt-oidc/client'
import { CliError } from '../lib/cli-error.js'
import { writeJson, writeLine } from '../lib/cli-io.js'
import type { CliIo } from '../lib/cli-io.js'
import { collect, nonEmpty, parseBrokerId, parseCredentialCount, parseExpiration } from '../lib/option-parsers.js'
import { addGlobalOptions, resolveSettings } from '../lib/settings.js'
import { adminCredentialsFor } from '../lib/admin-credentials-for.js'
import { aclFrom, addCredentialAclOptions, addPolicyOptions, policyFrom } from './broker-policy-options.js'
import type { PolicyOptions } from './broker-policy-options.js'
import { addBrokerCredentialsCommand } from './broker-credentials-command.js'

const ADMIN_HELP = `
Admin commands authenticate as the admin client found in <data-dir>/admin-client.json
(written by \`pnpm start\`). --issuer / --exchange (or their env vars) override the URLs in it.`

/** `broker ...`: the exchange's admin API. */
export function addBrokerCommands(program: Command, io: CliIo): void {
  const broker = program.command('broker').description('manage brokers, credentials and revocations (admin)').addHelpText('after', ADMIN_HELP)
  // Every broker command prints JSON on stdout; --json is accepted everywhere for scripts, and makes
  // `delete` print {"id","deleted"} too (it otherwise only says so on stderr).
  const leaf = (name: string, description: string, options?: { clientId?: boolean }): Command =>
    addGlobalOptions(broker.command(name), { clientId: false, ...options }).description(description).addHelpText('after', ADMIN_HELP)
      .option('--json', 'JSON output on stdout (the default for every command but delete)')
  const admin = (cmd: Command): AdminClient => adminClientFor(cmd, io)

  addPolicyOptions(leaf('create', 'create a broker (with its ACL and policy; an HS256 broker\'s secret is printed once, as hmacSecret)')
    .argument('<id>', 'broker id', parseBrokerId)
    .option('--expiration <duration>', 'default expiration of its tokens: 30s, 15m, 48h, 7d, seconds, or -1 for none', parseExpiration)
    .option('--url <url>', 'where clients reach it (informational, e.g. mqtt://localhost:1883)'))
    .action(async (id: string, opts: BrokerOptions, cmd: Command) => {
      writeJson(io.stdout, await admin(cmd).createBroker(id, { expiration: opts.expiration, url: opts.url, acl: aclFrom(opts), policy: policyFrom(opts) }))
    })

  leaf('list', 'list brokers (JSON)').action(async (_opts: unknown, cmd: Command) => {
    writeJson(io.stdout, await admin(cmd).listBrokers())
  })

  leaf('show', 'one broker with its ACL and policy (JSON)')
    .argument('<id>', 'broker id', parseBrokerId).action(async (id: string, _opts: unknown, cmd: Command) => {
    writeJson(io.stdout, await admin(cmd).getBroker(id))
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
      writeJson(io.stdout, await admin(cmd).updateBroker(id, { expiration: opts.expiration, url: opts.url, acl, policy }))
    })

  leaf('delete', 'delete a broker (one with live credentials needs --force, and its credentials are all revoked)')
    .argument('<id>', 'broker id', parseBrokerId)
    .option('--force', 'delete even with live credentials: they are all revoked (sessions closed) and stay refused until they expire')
    .action(async (id: string, opts: { json?: boolean; force?: boolean }, cmd: Command) => {
      const deletion = await admin(cmd).deleteBroker(id, { force: opts.force }).catch((err: unknown) => {
        if (err instanceof AdminApiError && err.status === 409 && !opts.force) {
          throw new CliError(`${err.error_description ?? err.message} Run \`mqtt-oidc broker delete ${id} --force\` to delete it.`)
        }
        throw err
      })
      if (opts.json) writeJson(io.stdout, deletion)
      else if (deletion.revoked === 0) writeLine(io.stderr, `Deleted broker ${id}.`)
      else writeLine(io.stderr, `Deleted broker ${id} and revoked its ${deletion.revoked} live credential${deletion.revoked === 1 ? '' : 's'}: they stay refused until they expire.`)
    })

  addCredentialAclOptions(leaf('issue', 'issue credentials and print {"<clientid>": "<token>", ...} (like Cloudflare Pub/Sub)')
    .argument('<id>', 'broker id', parseBrokerId))
    .option('-n, --number <n>', 'how many credentials, 1..100 (default 1)', parseCredentialCount)
    .option('--client-id <id>', 'MQTT client id to issue for (repeatable; default: generated ULIDs)', collect(nonEmpty))
    .option('--expiration <duration>', '30s, 15m, 48h, 7d, seconds, or -1 for no expiry', parseExpiration)
    .option('--username <name>', 'username claim of the credentials', nonEmpty)
    .option('--allow-owned-client-id', 'issue even for a --client-id an account or subject owns: the credential takes over the owner\'s MQTT session')
    .action(async (id: string, opts: IssueOptions, cmd: Command) => {
      if (opts.clientId !== undefined && opts.clientId.length > 100) throw new CliError('at most 100 --client-id values; nothing was issued')
      if (opts.clientId !== undefined && opts.number !== undefined && opts.number !== opts.clientId.length) {
        throw new CliError(`--number ${opts.number} does not match the ${opts.clientId.length} --client-id values; give one or the other`)
      }
      writeJson(io.stdout, await admin(cmd).issueCredentials(id, {
        number: opts.number,
        clientIds: opts.clientId,
        expiration: opts.expiration,
        username: opts.username,
        acl: aclFrom(opts),
        notBefore: opts.notBefore,
        ...(opts.allowOwnedClientId ? { allowOwnedClientIds: true } : {}),
      }))
    })

  leaf('revoke', 'revoke credentials by jti, or every live credential of a client id; prints {"revision","revoked":[jtis]}')
    .argument('<id>', 'broker id', parseBrokerId)
    .option('--jti <jti>', 'jti to revoke (repeatable)', collect(nonEmpty))
    .option('--client-id <id>', 'revoke every live credential of this MQTT client id (repeatable); see `broker credentials list`', collect(nonEmpty))
    .action(async (id: string, opts: { jti?: string[]; clientId?: string[] }, cmd: Command) => {
      if (opts.clientId === undefined) {
        if (opts.jti === undefined) throw new CliError('give --jti or --client-id (see `mqtt-oidc broker revoke --help`); nothing was revoked')
        return writeJson(io.stdout, await admin(cmd).revoke(id, opts.jti))
      }
      const change = await admin(cmd).revokeClientIds(id, opts.clientId, opts.jti)
      writeJson(io.stdout, change)
      if (change.revoked.length === 0) writeLine(io.stderr, `Nothing was revoked: ${opts.clientId.join(', ')} had no live credential${opts.jti ? ' and the jtis were revoked already' : ''}.`)
    })

  addBrokerCredentialsCommand(broker, io, admin, ADMIN_HELP)

  leaf('unrevoke', 'lift revocations by jti')
    .argument('<id>', 'broker id', parseBrokerId)
    .requiredOption('--jti <jti>', 'jti to unrevoke (repeatable)', collect(nonEmpty))
    .action(async (id: string, opts: { jti: string[] }, cmd: Command) => {
      writeJson(io.stdout, await admin(cmd).unrevoke(id, opts.jti))
    })

  leaf('feed-credential', 'issue the broker\'s revocation-feed credential (the previous one stops working); printed once, or written to --out')
    .argument('<id>', 'broker id', parseBrokerId)
    .option('--out <file>', 'write the credential to this file (mode 0600) for the broker\'s MQTT_OIDC_BROKER_FEED_CREDENTIAL_FILE instead of printing it')
    .action(async (id: string, opts: { out?: string }, cmd: Command) => {
      const issued = await admin(cmd).issueFeedCredential(id)
      if (opts.out === undefined) return writeJson(io.stdout, issued)
      writeSecretFile(opts.out, `${issued.feedCredential}\n`)
      writeJson(io.stdout, { broker: issued.broker, file: opts.out })
    })

  leaf('show-revocations', 'list revoked jtis (JSON)')
    .argument('<id>', 'broker id', parseBrokerId).action(async (id: string, _opts: unknown, cmd: Command) => {
    writeJson(io.stdout, await admin(cmd).listRevocations(id))
  })
}

interface BrokerOptions extends PolicyOptions {
  expiration?: number
  url?: string
}

interface IssueOptions {
  number?: number
  clientId?: string[]
  allowOwnedClientId?: boolean
  expiration?: number
  username?: string
  aclPub?: string[]
  aclSub?: string[]
  notBefore?: number | string
}

function adminClientFor(cmd: Command, io: CliIo): AdminClient {
  return createAdminClient({ adminCredentials: adminCredentialsFor(cmd, io), fetchFrom: resolveSettings(cmd, io.env).fetchFrom })
}
