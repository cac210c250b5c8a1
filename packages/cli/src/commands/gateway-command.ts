import type { Command } from 'commander'
import { InvalidArgumentError } from 'commander'
import { isValidTopicName } from '@mqtt-oidc/core/topic'
import type { CliIo } from '../lib/cli-io.js'
import { parseBrokerId, parseDurationSeconds, parsePositiveInt, parseQos } from '../lib/option-parsers.js'
import { addExitCodesHelp, addGlobalOptions, DEFAULTS } from '../lib/settings.js'
import { CLIENTID, DEFAULT_TOPIC, type GatewayOptions } from './gateway-options.js'

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
    .option('--json', 'print each acknowledged message as one JSON object per line: {"topic","message"}')
    .addHelpText('after', `\nEach acknowledged message is printed on stdout as "<topic> <json>" (with --json: {"topic","message":<json>}); the JSON is {"seq","at","clientid","temperature_c","uptime_s"}.`)
    .action(async (opts: GatewayOptions, cmd: Command) => {
      await (await import('./run-gateway.js')).runGateway(io, opts, cmd)
    })
}

function parseTopicTemplate(value: string): string {
  if (!isValidTopicName(value.replaceAll(CLIENTID, 'x'))) throw new InvalidArgumentError(`not a valid MQTT topic to publish to (no + or #, not empty; ${CLIENTID} is allowed).`)
  return value
}

