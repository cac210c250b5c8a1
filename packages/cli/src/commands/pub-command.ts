import type { Command } from 'commander'
import type { CliIo } from '../lib/cli-io.js'
import { CliError } from '../lib/cli-error.js'
import { addMqttVersionOption } from '../lib/mqtt-version-option.js'
import { parseBrokerId, parseQos, parseTopicName } from '../lib/option-parsers.js'
import { addExitCodesHelp, addGlobalOptions, DEFAULTS } from '../lib/settings.js'

export interface PubOptions {
  broker: string
  topic: string
  message?: string
  file?: string
  qos: 0 | 1 | 2
  retain?: boolean
  url?: string
  mqttVersion: 4 | 5
  cafile?: string
  json?: boolean
  quiet?: boolean
}

/** `pub`: publish one message with a fresh broker token. */
export function addPubCommand(program: Command, io: CliIo): void {
  const pub = addExitCodesHelp(addGlobalOptions(program.command('pub')))
    .description('publish one message (from -m, -f or stdin) to a broker, connecting with a fresh broker token')
    .requiredOption('-b, --broker <id>', 'broker id', parseBrokerId)
    .requiredOption('-t, --topic <topic>', 'topic to publish to', parseTopicName)
    .option('-m, --message <text>', 'the message (default: read -f, else stdin)')
    .option('-f, --file <path>', 'read the message from a file')
    .option('-q, --qos <qos>', 'QoS 0, 1 or 2', parseQos, 0)
    .option('-r, --retain', 'retain the message')
    .option('--url <url>', `broker URL: mqtt://, mqtts://, ws://host:port/mqtt or wss:// (env MQTT_OIDC_CLI_BROKER_URL, default ${DEFAULTS.brokerUrl})`)
    .option('--cafile <path>', 'PEM file of the CA that signed the broker\'s TLS certificate, for mqtts:// and wss:// (default: the system CAs)')
    .option('--json', 'on success, print {"broker","topic","clientId","qos","retain","bytes"} on stdout')
    .option('--quiet', 'print nothing on success (errors still go to stderr)')
    .addHelpText('after', '\nOn success it says on stderr what it published, where and as which client id (nothing with --quiet). A topic outside the\nbroker token\'s publish ACL is refused before publishing, at every QoS (at QoS 0 the broker would drop it silently).')
    .action(async (opts: PubOptions, cmd: Command) => {
      if (opts.message !== undefined && opts.file !== undefined) throw new CliError('give either -m or -f, not both')
      await (await import('./run-pub.js')).runPub(io, opts, cmd)
    })
  addMqttVersionOption(pub)
}
