/**
 * A bench broker in its own process (so the load generator gets the other
 * core): aedes on 127.0.0.1:`BENCH_PORT` (default 0, any free port), either with broker-token auth
 * (`BENCH_MODE=jwt`, keys from `BENCH_JWKS`) or accept-all (`BENCH_MODE=open`).
 * Talks to the parent over IPC: sends `{port}`; answers `mem` with memory
 * usage after a full GC, and `sessions` with the live session count. With
 * `BENCH_LISTEN=deferred` it sends `{ready}` once set up and listens only on
 * the `listen` message (a restart whose downtime the parent controls).
 */
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Aedes } from 'aedes'
import { attachAedesAuth, createKeyStore, createVerifier } from '@mqtt-oidc/broker-auth'
import { BROKER, ISSUER } from './broker-token-fixture.js'

const mode = process.env.BENCH_MODE ?? 'open'
const aedes = await Aedes.createBroker({ id: `bench-${mode}` })
let sessions = (): number => Object.keys((aedes as unknown as { clients: Record<string, unknown> }).clients).length
if (mode === 'jwt') {
  const jwks = process.env.BENCH_JWKS ?? '{"keys":[]}'
  const keys = createKeyStore({ jwksUri: `${ISSUER}/jwks`, fetch: async () => new Response(jwks, { status: 200 }) })
  await keys.refresh()
  const verifier = createVerifier({ issuer: ISSUER, audience: BROKER, jwksUri: `${ISSUER}/jwks`, keys })
  const auth = attachAedesAuth(aedes, { verifier })
  sessions = () => auth.sessionCount
}
const server = createServer({ noDelay: true }, (socket) => aedes.handle(socket))
const listen = (): void => {
  server.listen(Number(process.env.BENCH_PORT ?? 0), '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }))
}
if (process.env.BENCH_LISTEN === 'deferred') process.send?.({ ready: true })
else listen()
process.on('message', (msg) => {
  if (msg === 'listen') listen()
  if (msg === 'mem') {
    for (let i = 0; i < 3; i++) globalThis.gc?.()
    process.send?.({ mem: process.memoryUsage(), sessions: sessions() })
  }
  if (msg === 'exit') process.exit(0)
})
