/**
 * One share of bench:storm's fleet, in its own process: clients of the
 * client library (`connectWithToken`, its default reconnect back-off with
 * jitter) for the tokens the parent sends. Over IPC:
 * - `{ type: 'connect', port, tokens }` connects them all, answers `{ type: 'connected' }`;
 * - `{ type: 'storm' }` starts watching: the broker is about to go; once every client
 *   is connected again it answers `{ type: 'back', backAt: [...] }` (epoch ms per client),
 *   with how many reconnect attempts were made, how many CONNACKs refused, how many gave up;
 * - `{ type: 'close' }` ends every client, answers `{ type: 'closed' }`.
 */
import type { MqttClient, Packet } from 'mqtt'
import { connectWithToken } from '@mqtt-oidc/client'

interface ConnectMessage {
  type: 'connect'
  port: number
  tokens: Array<{ clientId: string; token: string }>
}
type Message = ConnectMessage | { type: 'storm' } | { type: 'close' }

const CONNECTS_IN_FLIGHT = 100
let clients: MqttClient[] = []
let storm: { back: number[]; pending: number; attempts: number; refused: number; gaveUp: number } | undefined

const send = (m: unknown): void => void process.send?.(m)

function watch(client: MqttClient, i: number): void {
  client.on('reconnect', () => {
    if (storm) storm.attempts += 1
  })
  client.on('packetreceive', (p: Packet) => {
    if (storm && p.cmd === 'connack' && (p.returnCode ?? 0) !== 0) storm.refused += 1
  })
  client.on('end', () => {
    if (storm) storm.gaveUp += 1
  })
  client.on('connect', () => {
    if (!storm || storm.back[i] !== 0) return
    storm.back[i] = Date.now()
    storm.pending -= 1
    if (storm.pending === 0) send({ type: 'back', backAt: storm.back, attempts: storm.attempts, refused: storm.refused, gaveUp: storm.gaveUp })
  })
}

async function connectAll(m: ConnectMessage): Promise<void> {
  clients = new Array<MqttClient>(m.tokens.length)
  let next = 0
  await Promise.all(
    Array.from({ length: CONNECTS_IN_FLIGHT }, async () => {
      while (next < m.tokens.length) {
        const i = next++
        const t = m.tokens[i]!
        const client = await connectWithToken({
          brokerUrl: `mqtt://127.0.0.1:${m.port}`,
          getToken: async () => ({ token: t.token, clientId: t.clientId }),
          mqtt: { keepalive: 0 },
        })
        watch(client, i)
        clients[i] = client
      }
    }),
  )
}

process.on('message', (m: Message) => {
  if (m.type === 'connect') {
    connectAll(m).then(
      () => send({ type: 'connected' }),
      (err: unknown) => send({ type: 'failed', error: String(err) }),
    )
  } else if (m.type === 'storm') {
    storm = { back: clients.map(() => 0), pending: clients.length, attempts: 0, refused: 0, gaveUp: 0 }
  } else if (m.type === 'close') {
    storm = undefined
    Promise.all(clients.map((c) => c.endAsync(true))).then(
      () => {
        clients = []
        send({ type: 'closed' })
      },
      () => send({ type: 'closed' }),
    )
  }
})
