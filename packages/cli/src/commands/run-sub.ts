import type { Command } from 'commander'
import type { MqttClient } from 'mqtt'
import type { CliIo } from '../lib/cli-io.js'
import { writeLine } from '../lib/cli-io.js'
import { CliError } from '../lib/cli-error.js'
import { connectForBroker } from '../lib/connect-for-broker.js'
import { resolveSettings } from '../lib/settings.js'
import type { SubOptions } from './sub-command.js'

/** The `sub` command's run (sub-command.ts), loaded only when it runs. */
export async function runSub(io: CliIo, opts: SubOptions, cmd: Command): Promise<void> {
  const s = resolveSettings(cmd, io.env)
  let fail: (err: unknown) => void = () => undefined
  const failed = new Promise<never>((_, reject) => {
    fail = reject
  })
  failed.catch(() => undefined)
  const client = await connectForBroker(s, io, {
    broker: opts.broker,
    url: opts.url,
    caFile: opts.cafile,
    protocolVersion: opts.mqttVersion,
    keepSession: opts.keepSession,
    onRefused: (err) => fail(err),
  })
  let finished = false
  try {
    await Promise.race([receive(client, opts, io), failed])
    finished = true
  } finally {
    await client.endAsync(!finished)
  }
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
  let lost = false
  client.on('offline', () => {
    lost = true
    writeLine(
      io.stderr,
      `mqtt-oidc: warning: lost the connection to the broker (restarted? token expired? another connection with client id ${String(client.options.clientId)}?); reconnecting`,
    )
  })
  client.on('connect', (connack) => {
    if (!lost) return
    lost = false
    // A session the broker kept (--keep-session) still holds the subscriptions; otherwise mqtt.js subscribes again (resubscribe).
    writeLine(io.stderr, `Reconnected to ${opts.broker} as ${String(client.options.clientId)}${connack.sessionPresent ? ' (session kept)' : ''}.`)
  })
  // On stderr, so stdout stays pure data; scripts (and tests) can wait for this line.
  writeLine(io.stderr, `Subscribed to ${opts.topic.join(', ')} on ${opts.broker} as ${String(client.options.clientId)} (Ctrl-C to stop).`)
  await done
}

/** Subscribes; SUBACK 0x80 for a filter, or the broker closing the connection first, is an error. */
async function subscribeOrFail(client: MqttClient, opts: SubOptions): Promise<void> {
  let onClose: (() => void) | undefined
  const closed = new Promise<never>((_, reject) => {
    onClose = () =>
      reject(
        new CliError(`the broker closed the connection instead of accepting the subscription to ${opts.topic.join(', ')} (not allowed by the token's ACL?)`),
      )
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
