import type { Command } from 'commander'
import type { AdminClient } from '@mqtt-oidc/client'
import { writeJson, writeLine, type CliIo } from '../lib/cli-io.js'
import { CliError } from '../lib/cli-error.js'
import { addLeadOption } from '../lib/lead-option.js'
import { localTime, wantsJson, writeTable } from '../lib/output.js'
import { addGlobalOptions } from '../lib/settings.js'
import { writeKeyChanges } from '../lib/write-key-changes.js'

const HELP = `
Works on the exchange's broker-token signing keys through its admin API (as the admin client in
<data-dir>/admin-client.json). The new key is in the JWKS at once and signs after --lead;
the old key stays in the JWKS until the last token it signed has expired.`

/** `keys list|rotate`: the exchange's signing keys (admin API). */
export function addExchangeKeysCommands(program: Command, io: CliIo): void {
  const keys = program.command('keys').description("the exchange's broker-token signing keys (admin)").addHelpText('after', HELP)
  const leaf = (name: string, description: string): Command =>
    addGlobalOptions(keys.command(name), { clientId: false }).description(description).addHelpText('after', HELP)
      .option('--json', 'JSON output on stdout, epoch seconds (what a pipe or file gets without it)')
  const admin = async (cmd: Command): Promise<AdminClient> => (await import('../lib/admin-client-for.js')).adminClientFor(cmd, io)

  leaf('list', 'list signing keys: kid, alg, signsFrom, retiredAt, published (a table at a terminal, else JSON)').action(async (opts: { json?: boolean }, cmd: Command) => {
    const list = await (await admin(cmd)).listKeys()
    if (wantsJson(opts, io)) return writeJson(io.stdout, list)
    writeTable(io.stdout, ['KID', 'ALG', 'SIGNS FROM', 'RETIRED', 'PUBLISHED'], list.map((k) =>
      [k.kid, k.alg, localTime(k.signsFrom), localTime(k.retiredAt), k.published ? 'yes' : 'no']))
  })

  addLeadOption(leaf('rotate', 'publish a new key now; it signs after --lead (a table of the new and the retiring key at a terminal, else {kid, alg, activatesAt, retiring})'), 'the exchange\'s, 10m')
    .option('--alg <alg>', 'EdDSA (default), ES256 or RS256')
    .action(async (opts: { json?: boolean; alg?: string; lead?: number; leadTime?: number }, cmd: Command) => {
      const alg = opts.alg
      if (alg !== undefined && alg !== 'EdDSA' && alg !== 'ES256' && alg !== 'RS256') throw new CliError('--alg must be EdDSA, ES256 or RS256')
      const { readLead } = await import('../lib/read-lead.js')
      const leadTime = readLead(opts, io)
      const api = await admin(cmd)
      const result = await api.rotateKey({ alg, leadTime })
      if (wantsJson(opts, io)) writeJson(io.stdout, result)
      else {
        const old = result.retiring === undefined ? undefined : (await api.listKeys()).find((k) => k.kid === result.retiring)
        writeKeyChanges(io, [
          { kid: result.kid, alg: result.alg, change: 'new', signsFrom: result.activatesAt },
          ...(result.retiring === undefined ? [] : [{ kid: result.retiring, alg: old?.alg, change: 'retiring' as const, signsFrom: old?.signsFrom, retires: result.activatesAt }]),
        ])
      }
      writeLine(io.stderr, `Key ${result.kid} is published now and signs from ${new Date(result.activatesAt * 1000).toISOString()}.`)
    })
}
