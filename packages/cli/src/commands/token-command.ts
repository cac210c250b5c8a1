import type { Command } from 'commander'
import { writeJson, writeLine } from '../lib/cli-io.js'
import type { CliIo } from '../lib/cli-io.js'
import { parseBrokerId } from '../lib/option-parsers.js'
import { fetchBrokerToken, openSession } from '../lib/session.js'
import { addExitCodesHelp, addGlobalOptions, resolveSettings } from '../lib/settings.js'

/** `token --broker B [--json]`: the one user command that prints a token. */
export function addTokenCommand(program: Command, io: CliIo): void {
  addExitCodesHelp(addGlobalOptions(program.command('token')))
    .description('exchange the cached ID token for a broker token and print it (the MQTT CONNECT password)')
    .requiredOption('-b, --broker <id>', 'broker id (the token audience)', parseBrokerId)
    .option('--json', 'print JSON with the token and its client id, username, expiry and ACL')
    .addHelpText('after', '\nExample:\n  mosquitto_pub -i "$(mqtt-oidc token --broker demo --json | jq -r .clientId)" -P "$(mqtt-oidc token --broker demo)" ...')
    .action(async (opts: { broker: string; json?: boolean }, cmd: Command) => {
      const s = resolveSettings(cmd, io.env)
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
