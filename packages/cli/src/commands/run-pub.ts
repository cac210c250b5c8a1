import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import type { MqttClient } from 'mqtt'
import { canPublish } from '@mqtt-oidc/core'
import type { BrokerToken } from '@mqtt-oidc/client'
import type { CliIo } from '../lib/cli-io.js'
import { writeJson, writeLine } from '../lib/cli-io.js'
import { CliError } from '../lib/cli-error.js'
import { connectForBroker } from '../lib/connect-for-broker.js'
import { resolveSettings } from '../lib/settings.js'
import type { PubOptions } from './pub-command.js'

/** The `pub` command's run (pub-command.ts), loaded only when it runs. */
export async function runPub(io: CliIo, opts: PubOptions, cmd: Command): Promise<void> {
  const s = resolveSettings(cmd, io.env)
  const payload = await readPayload(opts, io)
  let token: BrokerToken | undefined
  const client = await connectForBroker(s, io, {
    broker: opts.broker,
    url: opts.url,
    caFile: opts.cafile,
    protocolVersion: opts.mqttVersion,
    onToken: (t) => {
      token = t
    },
  })
  let published = false
  const clientId = String(client.options.clientId)
  try {
    // The broker drops a QoS 0 message outside the ACL without a word (there is no PUBACK to refuse), so the token's own ACL is asked first.
    if (token?.acl !== undefined && !canPublish(token.acl, opts.topic, { clientid: clientId, username: token.username })) {
      throw new CliError(
        `the broker token for ${opts.broker} does not allow publishing to ${opts.topic} (its publish ACL: ${token.acl.pub.join(', ') || 'nothing'}); nothing was published`,
      )
    }
    await publishOrFail(client, opts, payload)
    published = true
  } finally {
    // After a failure, do not wait for acknowledgements that will never come.
    await client.endAsync(!published)
  }
  const retain = opts.retain === true
  if (opts.json) writeJson(io.stdout, { broker: opts.broker, topic: opts.topic, clientId, qos: opts.qos, retain, bytes: payload.length })
  else if (!opts.quiet)
    writeLine(
      io.stderr,
      `Published ${payload.length} byte${payload.length === 1 ? '' : 's'} to ${opts.topic} on ${opts.broker} as ${clientId} (QoS ${opts.qos}${retain ? ', retained' : ''}).`,
    )
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
    onClose = () =>
      reject(new CliError(`the broker closed the connection before the message to ${opts.topic} was acknowledged (not allowed by the token's ACL?)`))
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
