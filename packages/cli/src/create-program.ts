import { Command } from 'commander'
import { addBrokerCommands } from './commands/broker-commands.js'
import { addClientsCommands } from './commands/clients-commands.js'
import { addPubCommand } from './commands/pub-command.js'
import { addSessionCommands } from './commands/session-commands.js'
import { addSubCommand } from './commands/sub-command.js'
import { addTokenCommand } from './commands/token-command.js'
import { addUsersCommands } from './commands/users-commands.js'
import { addIdpKeysCommands } from './commands/idp-keys-commands.js'
import { addExchangeKeysCommands } from './commands/exchange-keys-commands.js'
import { addGatewayCommand } from './commands/gateway-command.js'
import type { CliIo } from './lib/cli-io.js'
import { addGlobalOptions, EXIT_CODES_HELP } from './lib/settings.js'

/**
 * The `mqtt-oidc` command tree. Parse errors go to stderr as one
 * `mqtt-oidc: ...` line (no help dump: scripts read stderr) and surface as a thrown CommanderError (exitOverride),
 * so `runCli` decides the exit code in one place.
 */
export function createProgram(io: CliIo): Command {
  const program = new Command('mqtt-oidc')
    .description('Sign in with OIDC, get broker-scoped MQTT tokens, publish and subscribe; admin commands for brokers and credentials.')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`mqtt-oidc: ${text.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()}\n`),
    })
  addGlobalOptions(program)
  addSessionCommands(program, io)
  addTokenCommand(program, io)
  addPubCommand(program, io)
  addSubCommand(program, io)
  addGatewayCommand(program, io)
  addBrokerCommands(program, io)
  addUsersCommands(program, io)
  addClientsCommands(program, io)
  addIdpKeysCommands(program, io)
  addExchangeKeysCommands(program, io)
  program.addHelpText('after', `
${EXIT_CODES_HELP}

Examples:
  mqtt-oidc login --device
  mqtt-oidc sub --broker demo -t 'devices/<clientid>/#'
  mqtt-oidc pub --broker demo -t devices/<clientid>/hello -m hi
  mqtt-oidc gateway --broker demo --every 5s
  mqtt-oidc broker issue demo --number 5 --expiration 48h
  mqtt-oidc clients add oidc-agent --native --redirect-uri http://localhost`)
  return program
}
