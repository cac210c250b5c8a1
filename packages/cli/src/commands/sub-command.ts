import type { Command } from 'commander'
import type { CliIo } from '../lib/cli-io.js'
import { addMqttVersionOption } from '../lib/mqtt-version-option.js'
import { collect, parseBrokerId, parsePositiveInt, parseQos, parseTopicFilter } from '../lib/option-parsers.js'
import { addExitCodesHelp, addGlobalOptions, DEFAULTS } from '../lib/settings.js'

export interface SubOptions {
  broker: string
  topic: string[]
  qos: 0 | 1 | 2
  count?: number
  json?: boolean
  url?: string
  mqttVersion: 4 | 5
  cafile?: string
  keepSession?: boolean
}

/** `sub`: subscribe and print messages until -C messages arrived, Ctrl-C, or the broker refuses us. */
export function addSubCommand(program: Command, io: CliIo): void {
  const sub = addExitCodesHelp(addGlobalOptions(program.command('sub')))
    .description('subscribe and print each message as "topic message" (or JSON lines); renews the broker token while running')
    .requiredOption('-b, --broker <id>', 'broker id', parseBrokerId)
    .requiredOption('-t, --topic <filter>', 'topic filter (repeatable)', collect(parseTopicFilter))
    .option('-q, --qos <qos>', 'QoS 0, 1 or 2', parseQos, 0)
    .option('-C, --count <n>', 'exit after this many messages', parsePositiveInt)
    .option('--json', 'print one JSON object per message: {"topic","message","qos","retain"}')
    .option('--url <url>', `broker URL: mqtt://, mqtts://, ws://host:port/mqtt or wss:// (env MQTT_OIDC_CLI_BROKER_URL, default ${DEFAULTS.brokerUrl})`)
    .option('-c, --keep-session', 'clean session off: the broker queues QoS 1/2 messages for this client id while it reconnects (token renewal, restarts); the session outlives this command')
    .option('--cafile <path>', 'PEM file of the CA that signed the broker\'s TLS certificate, for mqtts:// and wss:// (default: the system CAs)')
    .addHelpText('after', '\nStatus lines (subscribed, connection lost, reconnected) go to stderr; stdout holds the messages only.')
    .action(async (opts: SubOptions, cmd: Command) => {
      await (await import('./run-sub.js')).runSub(io, opts, cmd)
    })
  addMqttVersionOption(sub)
}
