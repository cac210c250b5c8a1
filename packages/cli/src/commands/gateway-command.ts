import { setTimeout as sleep } from 'node:timers/promises'
import type { Command } from 'commander'
import { InvalidArgumentError } from 'commander'
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
import { parseBrokerId, parseDurationSeconds, parsePositiveInt, parseQos } from '../lib/option-parsers.js'
import { openSession } from '../lib/session.js'
import type { Session } from '../lib/session.js'
import { addExitCodesHelp, addGlobalOptions, DEFAULTS, resolveSettings } from '../lib/settings.js'

interface GatewayOptions {
  broker: string
  topic: string
  every: number
  qos: 0 | 1 | 2
  count?: number
  url?: string
  cafile?: string
  statusFile?: string
  login: boolean
  qr: boolean
}

/** `{clientid}` in --topic: the MQTT client id the login got (the broker token's `sub`). */
const CLIENTID = '{clientid}'
const DEFAULT_TOPIC = `devices/${CLIENTID}/telemetry`

/**
 * `gateway`: what a headless device does. It signs in with the device flow
 * when it has no usable login (a person approves it once in a browser; the
 * refresh token carries it from then on), then stays connected and publishes
 * a telemetry reading every few seconds, renewing the broker token before it
 * expires. It stops on Ctrl-C/SIGTERM, after --count messages, or when the
 * broker refuses it for good (revoked, login gone).
 */
export function addGatewayCommand(program: Command, io: CliIo): void {
  addExitCodesHelp(addGlobalOptions(program.command('gateway')))
    .description('run as a headless gateway: sign in with the device flow if needed, then publish telemetry at QoS 1 until stopped, renewing tokens')
    .requiredOption('-b, --broker <id>', 'broker id', parseBrokerId)
    .option('-t, --topic <topic>', `topic to publish to; ${CLIENTID} is replaced by the login's MQTT client id`, parseTopicTemplate, DEFAULT_TOPIC)
    .option('--every <duration>', 'time between readings: 5s, 1m, or seconds', parseDurationSeconds, 5)
    .option('-q, --qos <qos>', 'QoS 0, 1 or 2', parseQos, 1)
    .option('-C, --count <n>', 'exit after this many acknowledged messages (default: run until stopped)', parsePositiveInt)
    .option('--url <url>', `broker URL: mqtt://, mqtts://, ws://host:port/mqtt or wss:// (env MQTT_OIDC_CLI_BROKER_URL, default ${DEFAULTS.brokerUrl})`)
    .option('--cafile <path>', 'PEM file of the CA that signed the broker\'s TLS certificate, for mqtts:// and wss://')
    .option('--status-file <path>', 'rewrite this JSON file after each acknowledged message (for health checks: its age says whether the gateway is publishing)')
    .option('--no-login', 'exit with code 2 instead of starting a device login when there is no usable login')
    .option('--no-qr', 'do not print a QR code with the device login')
    .addHelpText('after', `\nEach acknowledged message is printed on stdout as "<topic> <json>"; the JSON is {"seq","at","clientid","temperature_c","uptime_s"}.`)
    .action(async (opts: GatewayOptions, cmd: Command) => {
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
    })
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
async function publishReadings(client: MqttClient, clientid: string, topic: string, opts: GatewayOptions, io: CliIo, signal: AbortSignal): Promise<number | undefined> {
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
    writeLine(io.stdout, `${topic} ${payload}`)
    // Replaced whole (write + rename), so a health check never reads half of it.
    if (opts.statusFile !== undefined) writeSecretFile(opts.statusFile, `${JSON.stringify({ clientid, topic, seq, at })}\n`)
  }
  return undefined
}

function parseTopicTemplate(value: string): string {
  if (!isValidTopicName(value.replaceAll(CLIENTID, 'x'))) throw new InvalidArgumentError(`not a valid MQTT topic to publish to (no + or #, not empty; ${CLIENTID} is allowed).`)
  return value
}

