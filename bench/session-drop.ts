/**
 * `pnpm bench:session-drop`: how long after an admin revokes a live session
 * the console's live table drops it. On the embedded stack (IdP, exchange,
 * aedes broker, in process), per round: a real mqtt.js client connects with
 * a fresh credential; the admin API's session stream (what the console's
 * page follows) shows it; the jti is revoked through the admin API; we time
 * (a) the broker closing the client (the revocation feed: the baseline) and
 * (b) the stream sending the broker's session list without it (the broker
 * node's report, pushed, through the exchange). Idle nodes report every
 * 60 s here, so a drop seen sooner was pushed. Target: every drop within
 * 1000 ms. Ends with one JSON line.
 */
import { decodeJwt } from 'jose'
import { connectAsync } from 'mqtt'
import { createSseParser } from '@mqtt-oidc/broker-auth'
import { createAdminClient, readAdminCredentials } from '@mqtt-oidc/client'
import { startTestStack } from '../test/support/start-test-stack.js'
import { adminApi } from '../test/support/admin-api.js'
import { median, percentile } from './lib/broker-token-fixture.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30)
const TARGET_MS = 1000

const stack = await startTestStack({ sessionHeartbeatSeconds: 60 })
const admin = createAdminClient({ adminCredentials: readAdminCredentials(stack.dataDir) })
const api = adminApi(stack.dataDir, stack.exchangeUrl)

/** The session stream, as the console's page reads it: resolves `waitFor` once a `sessions` event satisfies it. */
const stream = await fetch(`${stack.exchangeUrl}/admin/brokers/${stack.brokerId}/sessions/stream`, {
  headers: { authorization: `Bearer ${await api.token()}` },
})
if (stream.status !== 200 || !stream.body) throw new Error(`session stream: ${stream.status}`)
let waiter: { test: (jtis: Set<string>) => boolean; resolve: (at: bigint) => void } | undefined
void (async () => {
  const parser = createSseParser()
  const decoder = new TextDecoder()
  for await (const chunk of stream.body as AsyncIterable<Uint8Array>) {
    for (const event of parser.push(decoder.decode(chunk, { stream: true }))) {
      if (event.event !== 'sessions') continue
      const at = process.hrtime.bigint()
      const jtis = new Set((JSON.parse(event.data) as { sessions: Array<{ jti: string }> }).sessions.map((s) => s.jti))
      if (waiter?.test(jtis)) {
        waiter.resolve(at)
        waiter = undefined
      }
    }
  }
})().catch(() => {})
const waitFor = (test: (jtis: Set<string>) => boolean): Promise<bigint> =>
  new Promise((resolve) => {
    waiter = { test, resolve }
  })

const dropMs: number[] = []
const closeMs: number[] = []
for (let round = 0; round < ROUNDS; round++) {
  const clientId = `drop-${round}`
  const token = (await admin.issueCredentials(stack.brokerId, { clientIds: [clientId], expiration: '1h' }))[clientId]!
  const jti = decodeJwt(token).jti!
  const shown = waitFor((jtis) => jtis.has(jti))
  const client = await connectAsync(stack.mqttUrl, { clientId, username: clientId, password: token, reconnectPeriod: 0 })
  await shown
  const closed = new Promise<bigint>((resolve) => client.once('close', () => resolve(process.hrtime.bigint())))
  const dropped = waitFor((jtis) => !jtis.has(jti))
  const start = process.hrtime.bigint()
  await admin.revoke(stack.brokerId, [jti])
  const [closedAt, droppedAt] = await Promise.all([closed, dropped])
  closeMs.push(Number(closedAt - start) / 1e6)
  dropMs.push(Number(droppedAt - start) / 1e6)
}
await stream.body.cancel().catch(() => {})
await stack.close()

const round3 = (n: number): number => Math.round(n * 1000) / 1000
const figures = {
  rounds: ROUNDS,
  dropP50Ms: round3(median(dropMs)),
  dropP95Ms: round3(percentile(dropMs, 95)),
  dropMaxMs: round3(Math.max(...dropMs)),
  brokerCloseP50Ms: round3(median(closeMs)),
  dropOverCloseP50: round3(median(dropMs) / median(closeMs)),
  targetMs: TARGET_MS,
  withinTarget: Math.max(...dropMs) <= TARGET_MS,
}
console.log(`Revoke -> the console's live table drops the session, ${ROUNDS} rounds (embedded stack, aedes in process, idle heartbeat 60 s)`)
console.log(`  drop   p50 ${figures.dropP50Ms} ms   p95 ${figures.dropP95Ms} ms   max ${figures.dropMaxMs} ms   (target: every one within ${TARGET_MS} ms)`)
console.log(`  baseline: the broker closes the client, p50 ${figures.brokerCloseP50Ms} ms; drop / close ${figures.dropOverCloseP50}x`)
console.log(JSON.stringify(figures))
process.exitCode = figures.withinTarget ? 0 : 1
