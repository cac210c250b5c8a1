import type { Command } from 'commander'
import { writeJson, writeLine } from '../lib/cli-io.js'
import type { CliIo } from '../lib/cli-io.js'
import { parseBrokerId } from '../lib/option-parsers.js'
import { addExitCodesHelp, addGlobalOptions, resolveSettings } from '../lib/settings.js'

/**
 * `token --broker B [--json]`: the one user command that prints a token.
 * Always the bare token, terminal or not: it exists for `$(...)`, and what a
 * person sees is then what a script gets.
 */
export function addTokenCommand(program: Command, io: CliIo): void {
  addExitCodesHelp(addGlobalOptions(program.command('token')))
    .description('exchange the cached ID token for a broker token and print it (the MQTT CONNECT password)')
    .requiredOption('-b, --broker <id>', 'broker id (the token audience)', parseBrokerId)
    .option('--json', 'print JSON with the token and its client id, username, expiry and ACL')
    .addHelpText(
      'after',
      '\nPrints the bare token and a newline, at a terminal too (like oidc-token and `gcloud auth print-access-token`): it is made for\n' +
        '$(...), and a table around it would break that. --json: {broker, token, clientId, username, jti, expiresAt, acl}.\n' +
        '\nExample:\n  mosquitto_pub -i "$(mqtt-oidc token --broker demo --json | jq -r .clientId)" -P "$(mqtt-oidc token --broker demo)" ...',
    )
    .action(async (opts: { broker: string; json?: boolean }, cmd: Command) => {
      const s = resolveSettings(cmd, io.env)
      const { fetchBrokerToken, openSession } = await import('../lib/session.js')
      const t = await fetchBrokerToken(s, await openSession(s), opts.broker)
      if (!opts.json) return writeLine(io.stdout, t.token)
      writeJson(io.stdout, {
        broker: opts.broker,
        token: t.token,
        clientId: t.clientId,
        username: t.username,
        jti: t.jti,
        expiresAt: t.expiresAt,
        acl: t.acl,
      })
    })
}
