import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import type { MqttClient } from 'mqtt'
import type { CliIo } from '../lib/cli-io.js'
import { writeLine } from '../lib/cli-io.js'
import { CliError } from '../lib/cli-error.js'
import { connectForBroker } from '../lib/connect-for-broker.js'
import { parseBrokerId, parseMqttVersion, parseQos, parseTopicName } from '../lib/option-parsers.js'
import { addExitCodesHelp, addGlobalOptions, DEFAULTS, resolveSettings } from '../lib/settings.js'

interface PubOptions {
  broker: string
  topic: string
  message?: string
  file?: string
  qos: 0 | 1 | 2
  retain?: boolean
  url?: string
  mqttVersion: 4 | 5
  cafile?: string
}

/** `pub`: publish one message with a fresh broker token. */
export function addPubCommand(program: Command, io: CliIo): void {
  addExitCodesHelp(addGlobalOptions(program.command('pub')))
    .description('publish one message (from -m, -f or stdin) to a broker, connecting with a fresh broker token')
    .requiredOption('-b, --broker <id>', 'broker id', parseBrokerId)
    .requiredOption('-t, --topic <topic>', 'topic to publish to', parseTopicName)
    .option('-m, --message <text>', 'the message (default: read -f, else stdin)')
    .option('-f, --file <path>', 'read the message from a file')
    .option('-q, --qos <qos>', 'QoS 0, 1 or 2', parseQos, 0)
    .option('-r, --retain', 'retain the message')
    .option('--url <url>', `broker URL: mqtt://, mqtts://, ws://host:port/mqtt or wss:// (env MQTT_OIDC_CLI_BROKER_URL, default ${DEFAULTS.brokerUrl})`)
    .option('--cafile <path>', 'PEM file of the CA that signed the broker\'s TLS certificate, for mqtts:// and wss:// (default: the system CAs)')
    .option('-V, --mqtt-version <version>', 'MQTT protocol version: 3.1.1 or 5 (the embedded aedes broker speaks 3.1.1 only)', parseMqttVersion, 4)
    .action(async (opts: PubOptions, cmd: Command) => {
      if (opts.message !== undefined && opts.file !== undefined) throw new CliError('give either -m or -f, not both')
      const s = resolveSettings(cmd, io.env)
      const payload = await readPayload(opts, io)
      const client = await connectForBroker(s, io, { broker: opts.broker, url: opts.url, caFile: opts.cafile, protocolVersion: opts.mqttVersion })
      let published = false
      try {
        await publishOrFail(client, opts, payload)
        published = true
      } finally {
        // After a failure, do not wait for acknowledgements that will never come.
        await client.endAsync(!published)
      }
    })
}

async function readPayload(opts: PubOptions, io: CliIo): Promise<Buffer> {
  if (opts.message !== undefined) return Buffer.from(opts.message)
  if (opts.file !== undefined) return readFile(opts.file)
  if (io.stdin.isTTY) writeLine(io.stderr, 'Reading the message from stdin (end with Ctrl-D)...')
  const chunks: Buffer[] = []
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks)
}

/** Publishes; a connection the broker closes before the publish completes (ACL denial) is an error. */
async function publishOrFail(client: MqttClient, opts: PubOptions, payload: Buffer): Promise<void> {
  let onClose: (() => void) | undefined
  const closed = new Promise<never>((_, reject) => {
    onClose = () => reject(new CliError(`the broker closed the connection before the message to ${opts.topic} was acknowledged (not allowed by the token's ACL?)`))
    client.once('close', onClose)
  })
  try {
    const published = client.publishAsync(opts.topic, payload, { qos: opts.qos, retain: opts.retain === true })
    published.catch(() => undefined) // when the close wins the race, the publish fails later: already reported
    await Promise.race([published, closed])
  } finally {
    if (onClose) client.off('close', onClose)
  }
}
