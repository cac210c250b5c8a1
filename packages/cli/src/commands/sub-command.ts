import type { Command } from 'commander'
import type { MqttClient } from 'mqtt'
import type { CliIo } from '../lib/cli-io.js'
import { writeLine } from '../lib/cli-io.js'
import { CliError } from '../lib/cli-error.js'
import { connectForBroker } from '../lib/connect-for-broker.js'
import { collect, parseBrokerId, parsePositiveInt, parseMqttVersion, parseQos, parseTopicFilter } from '../lib/option-parsers.js'
import { addExitCodesHelp, addGlobalOptions, DEFAULTS, resolveSettings } from '../lib/settings.js'

interface SubOptions {
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
  addExitCodesHelp(addGlobalOptions(program.command('sub')))
    .description('subscribe and print each message as "topic message" (or JSON lines); renews the broker token while running')
    .requiredOption('-b, --broker <id>', 'broker id', parseBrokerId)
    .requiredOption('-t, --topic <filter>', 'topic filter (repeatable)', collect(parseTopicFilter))
    .option('-q, --qos <qos>', 'QoS 0, 1 or 2', parseQos, 0)
    .option('-C, --count <n>', 'exit after this many messages', parsePositiveInt)
    .option('--json', 'print one JSON object per message: {"topic","message","qos","retain"}')
    .option('--url <url>', `broker URL: mqtt://, mqtts://, ws://host:port/mqtt or wss:// (env MQTT_OIDC_CLI_BROKER_URL, default ${DEFAULTS.brokerUrl})`)
    .option('-c, --keep-session', 'clean session off: the broker queues QoS 1/2 messages for this client id while it reconnects (token renewal, restarts); the session outlives this command')
    .option('--cafile <path>', 'PEM file of the CA that signed the broker\'s TLS certificate, for mqtts:// and wss:// (default: the system CAs)')
    .option('-V, --mqtt-version <version>', 'MQTT protocol version: 3.1.1 or 5 (the embedded aedes broker speaks 3.1.1 only)', parseMqttVersion, 4)
    .action(async (opts: SubOptions, cmd: Command) => {
      const s = resolveSettings(cmd, io.env)
      let fail: (err: unknown) => void = () => undefined
      const failed = new Promise<never>((_, reject) => {
        fail = reject
      })
      failed.catch(() => undefined)
      const client = await connectForBroker(s, io, { broker: opts.broker, url: opts.url, caFile: opts.cafile, protocolVersion: opts.mqttVersion, keepSession: opts.keepSession, onRefused: (err) => fail(err) })
      let finished = false
      try {
        await Promise.race([receive(client, opts, io), failed])
        finished = true
      } finally {
        await client.endAsync(!finished)
      }
    })
}

async function receive(client: MqttClient, opts: SubOptions, io: CliIo): Promise<void> {
  let seen = 0
  const done = new Promise<void>((resolve) => {
    client.on('message', (topic, payload, packet) => {
      if (opts.count !== undefined && seen >= opts.count) return
      seen += 1
      const message = payload.toString('utf8')
      if (opts.json) writeLine(io.stdout, JSON.stringify({ topic, message, qos: packet.qos, retain: packet.retain }))
      else writeLine(io.stdout, `${topic} ${message}`)
      if (opts.count !== undefined && seen >= opts.count) resolve()
    })
    const stop = (): void => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    client.once('end', () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    })
  })
  await subscribeOrFail(client, opts)
  client.on('offline', () => writeLine(io.stderr, `mqtt-oidc: warning: lost the connection to the broker (restarted? token expired? another connection with client id ${String(client.options.clientId)}?); reconnecting`))
  // On stderr, so stdout stays pure data; scripts (and tests) can wait for this line.
  writeLine(io.stderr, `Subscribed to ${opts.topic.join(', ')} on ${opts.broker} as ${String(client.options.clientId)} (Ctrl-C to stop).`)
  await done
}

/** Subscribes; SUBACK 0x80 for a filter, or the broker closing the connection first, is an error. */
async function subscribeOrFail(client: MqttClient, opts: SubOptions): Promise<void> {
  let onClose: (() => void) | undefined
  const closed = new Promise<never>((_, reject) => {
    onClose = () => reject(new CliError(`the broker closed the connection instead of accepting the subscription to ${opts.topic.join(', ')} (not allowed by the token's ACL?)`))
    client.once('close', onClose)
  })
  closed.catch(() => undefined)
  try {
    const subscribed = client.subscribeAsync(Object.fromEntries(opts.topic.map((topic) => [topic, { qos: opts.qos }])))
    subscribed.catch(() => undefined)
    const granted = await Promise.race([subscribed, closed]).catch((err: unknown) => {
      // mqtt.js rejects when a SUBACK holds a failure code (0x80 and up); the codes are in err.packet.granted.
      const codes = (err as { packet?: { granted?: unknown } }).packet?.granted
      if (!Array.isArray(codes)) throw err
      return opts.topic.map((topic, i) => ({ topic, qos: typeof codes[i] === 'number' ? codes[i] : 0x80 }))
    })
    const refused = granted.filter((g) => g.qos >= 0x80).map((g) => g.topic)
    if (refused.length > 0) {
      const which = refused.length === 1 ? refused[0] : `one or more of ${refused.join(', ')}`
      throw new CliError(`the broker refused the subscription to ${which} (not allowed by the token's ACL?)`)
    }
  } finally {
    if (onClose) client.off('close', onClose)
  }
}
