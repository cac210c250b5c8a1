import { setTimeout as sleep } from 'node:timers/promises'
import type { Command } from 'commander'
import type { MqttClient } from 'mqtt'
import { canPublish, isValidTopicName, writeSecretFile } from '@mqtt-oidc/core'
import { LoginRequired } from '@mqtt-oidc/client'
import type { BrokerToken } from '@mqtt-oidc/client'
import { getIdToken } from '@mqtt-oidc/client'
import { DEFAULT_LOGIN_SCOPE } from '@mqtt-oidc/client'
import { CliError } from '../lib/cli-error.js'
import { writeLine } from '../lib/cli-io.js'
import type { CliIo } from '../lib/cli-io.js'
import { connectForBroker } from '../lib/connect-for-broker.js'
import { runDeviceLogin } from '../lib/device-login.js'
import { openSession } from '../lib/session.js'
import type { Session } from '../lib/session.js'
import { resolveSettings } from '../lib/settings.js'
import { CLIENTID, type GatewayOptions } from './gateway-options.js'

/** The `gateway` command's run (gateway-command.ts), loaded only when it runs. */
export async function runGateway(io: CliIo, opts: GatewayOptions, cmd: Command): Promise<void> {
  const s = resolveSettings(cmd, io.env)
  const session = await openSession(s)
  await ensureLogin(io, session, opts)

  const stop = new AbortController()
  const onSignal = (): void => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  let refused: (err: unknown) => void = () => undefined
  const failed = new Promise<never>((_, reject) => {
    refused = reject
  })
  failed.catch(() => undefined)
  let token: BrokerToken | undefined
  const client = await connectForBroker(s, io, {
    broker: opts.broker,
    url: opts.url,
    caFile: opts.cafile,
    session,
    onToken: (t) => {
      token = t
    },
    onRefused: (err) => refused(err),
  })
  let finished = false
  let unacknowledged: number | undefined
  try {
    const clientid = String(client.options.clientId)
    const topic = opts.topic.replaceAll(CLIENTID, clientid)
    if (!isValidTopicName(topic)) throw new CliError(`--topic ${opts.topic} gives "${topic}", which is not a topic to publish to`)
    if (token?.acl !== undefined && !canPublish(token.acl, topic, { clientid, username: token.username })) {
      throw new CliError(`the broker token does not allow publishing to ${topic} (its publish ACL: ${token.acl.pub.join(', ') || 'nothing'})`)
    }
    writeLine(io.stderr, `Connected to ${opts.broker} as ${clientid}; publishing to ${topic} every ${opts.every}s (Ctrl-C to stop).`)
    unacknowledged = await Promise.race([publishReadings(client, clientid, topic, opts, io, stop.signal), failed])
    finished = true
    if (unacknowledged !== undefined) writeLine(io.stderr, `Stopped with reading ${unacknowledged} not acknowledged by the broker.`)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    // A clean stop has nothing in flight; after a failure, or a stop while the broker is away, do not wait for an acknowledgement that may never come.
    await client.endAsync(!finished || unacknowledged !== undefined)
  }
}

/** A usable login, or a device login now (unless --no-login). */
async function ensureLogin(io: CliIo, session: Session, opts: GatewayOptions): Promise<void> {
  try {
    await getIdToken(session.config, session.store)
  } catch (err) {
    if (!(err instanceof LoginRequired) || !opts.login) throw err
    writeLine(io.stderr, `No usable login (${err.message}): signing in with the device flow.`)
    await runDeviceLogin(io, session, { scope: DEFAULT_LOGIN_SCOPE, qr: opts.qr })
  }
}

/**
 * One reading per interval, each published and acknowledged before the next:
 * nothing is dropped while the broker is away (mqtt.js resends it on
 * reconnect). Resolves when stopped: with the seq of a reading still waiting
 * for its acknowledgement when the stop came, if any.
 */
async function publishReadings(
  client: MqttClient,
  clientid: string,
  topic: string,
  opts: GatewayOptions,
  io: CliIo,
  signal: AbortSignal,
): Promise<number | undefined> {
  const started = Date.now()
  const stopped = new Promise<'stopped'>((resolve) => {
    if (signal.aborted) resolve('stopped')
    signal.addEventListener('abort', () => resolve('stopped'), { once: true })
  })
  let temperature = 21
  for (let seq = 0; !signal.aborted && (opts.count === undefined || seq < opts.count); seq++) {
    if (seq > 0) await sleep(opts.every * 1000, undefined, { signal }).catch(() => undefined)
    if (signal.aborted) break
    temperature = Math.round((temperature + (Math.random() - 0.5) * 0.4) * 10) / 10
    const at = new Date().toISOString()
    const payload = JSON.stringify({ seq, at, clientid, temperature_c: temperature, uptime_s: Math.round((Date.now() - started) / 1000) })
    const acked = client.publishAsync(topic, payload, { qos: opts.qos }).then(() => 'acked' as const)
    if ((await Promise.race([acked, stopped])) === 'stopped') {
      acked.catch(() => undefined) // ended below without waiting for it
      return seq
    }
    writeLine(io.stdout, opts.json ? JSON.stringify({ topic, message: JSON.parse(payload) as unknown }) : `${topic} ${payload}`)
    // Replaced whole (write + rename), so a health check never reads half of it.
    if (opts.statusFile !== undefined) writeSecretFile(opts.statusFile, `${JSON.stringify({ clientid, topic, seq, at })}\n`)
  }
  return undefined
}
