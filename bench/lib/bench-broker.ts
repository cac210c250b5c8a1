/**
 * A bench broker in its own process (so the load generator gets the other
 * core): aedes on 127.0.0.1:`BENCH_PORT` (default 0, any free port), either with broker-token auth
 * (`BENCH_MODE=jwt`, keys from `BENCH_JWKS`, configured as the broker app
 * is: its verified-cache size, connect timeout, and every connection through
 * the gate with its packet-size guard and failure budget), plain aedes
 * accepting everyone (`BENCH_MODE=open`), or plain aedes whose authenticate
 * is one raw Ed25519 `crypto.verify` of the password's signature and nothing
 * else (`BENCH_MODE=verify`: the target's yardstick), or plain aedes with
 * the least a token check can be (`BENCH_MODE=minimal`, see below). Talks to the parent over IPC:
 * sends `{port}`; answers `mem` with memory usage after a full GC and the
 * live session count, `drain` once no session is left, `cpu` with
 * `process.cpuUsage()`, and `{verify: {n, data, signature}}` with the CPU of
 * `n` raw Ed25519 `crypto.verify` calls with the JWKS key. With
 * `BENCH_LISTEN=deferred` it sends `{ready}` once set up and listens only on
 * the `listen` message (a restart whose downtime the parent controls).
 */
import { createPublicKey, verify } from 'node:crypto'
import type { JsonWebKeyInput } from 'node:crypto'
import { createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { Aedes } from 'aedes'
import { attachAedesAuth, createConnectionGate, createConnectThrottle, createKeyStore, createVerifier } from '@mqtt-oidc/broker-auth'
import { DEFAULT_VERIFIED_CACHE_SIZE } from '@mqtt-oidc/broker'
import { BROKER, ISSUER, tokenHeader } from './broker-token-fixture.js'

const mode = process.env.BENCH_MODE ?? 'open'
const jwks = process.env.BENCH_JWKS ?? '{"keys":[]}'
const jwk = (JSON.parse(jwks) as { keys: Array<JsonWebKeyInput['key'] & { kid?: string }> }).keys[0] ?? {}
const publicKey = createPublicKey({ key: jwk, format: 'jwk' })
const knownHeader = tokenHeader(jwk.kid ?? '')
const aedes = await Aedes.createBroker({ id: `bench-${mode}`, ...(mode === 'jwt' ? { connectTimeout: 10_000 } : {}) })
let sessions = (): number => Object.keys((aedes as unknown as { clients: Record<string, unknown> }).clients).length
let accept = (socket: Socket): void => void aedes.handle(socket)
if (mode === 'jwt') {
  const keys = createKeyStore({ jwksUri: `${ISSUER}/jwks`, fetch: async () => new Response(jwks, { status: 200 }) })
  await keys.refresh()
  const verifier = createVerifier({ issuer: ISSUER, audience: BROKER, jwksUri: `${ISSUER}/jwks`, keys, cacheSize: DEFAULT_VERIFIED_CACHE_SIZE })
  const gate = createConnectionGate(aedes, { throttle: createConnectThrottle() })
  const auth = attachAedesAuth(aedes, { verifier, onConnect: (code, client) => code !== undefined && gate.refused(code, client) })
  sessions = () => auth.sessionCount
  accept = (socket) => gate.accept(socket)
}
if (mode === 'minimal') {
  // The least a broker-token check can be: the one known header compared as a string (for the
  // alg, typ and kid checks), the signature, the payload parsed, iss, aud, exp/nbf/iat with 5 s
  // leeway, sub and jti, client id = sub, a revocation lookup. No duplicate-member check, no ACL,
  // no session bookkeeping, no cache: a floor to read the JWT figure against, not a verifier.
  const revoked = new Set<string>()
  aedes.authenticate = (client, _username, password, done) => {
    const token = password?.toString('utf8').trim() ?? ''
    const first = token.indexOf('.')
    const last = token.lastIndexOf('.')
    const signed =
      token.slice(0, first) === knownHeader &&
      verify(null, Buffer.from(token.slice(0, last), 'latin1'), publicKey, Buffer.from(token.slice(last + 1), 'base64url'))
    if (!signed) return done(null, false)
    const c = JSON.parse(Buffer.from(token.slice(first + 1, last), 'base64url').toString('utf8')) as Record<string, unknown>
    const now = Date.now() / 1000
    const times = typeof c.exp === 'number' && c.exp > now - 5 && !((c.nbf as number) > now + 5) && !((c.iat as number) > now + 5)
    const subject = typeof c.sub === 'string' && typeof c.jti === 'string' && c.sub === client.id && !revoked.has(c.jti)
    done(null, c.iss === ISSUER && c.aud === BROKER && times && subject)
  }
}
if (mode === 'verify') {
  aedes.authenticate = (_client, _username, password, done) => {
    const token = password?.toString('latin1') ?? ''
    const dot = token.lastIndexOf('.')
    done(null, dot > 0 && verify(null, Buffer.from(token.slice(0, dot), 'latin1'), publicKey, Buffer.from(token.slice(dot + 1), 'base64url')))
  }
}

const server = createServer({ noDelay: true }, (socket) => accept(socket))
const listen = (): void => {
  server.listen(Number(process.env.BENCH_PORT ?? 0), '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }))
}
if (process.env.BENCH_LISTEN === 'deferred') process.send?.({ ready: true })
else listen()
// the bench that forked this broker is gone (finished or crashed): do not outlive it
process.on('disconnect', () => process.exit(0))
process.on('message', (msg: unknown) => {
  if (msg === 'listen') listen()
  if (msg === 'mem') {
    for (let i = 0; i < 3; i++) globalThis.gc?.()
    process.send?.({ mem: process.memoryUsage(), sessions: sessions() })
  }
  if (msg === 'drain') {
    // answers once every session has closed; a 1 ms timer here costs far less than polling over IPC
    const check = (): void => {
      if (sessions() > 0) return void setTimeout(check, 1)
      process.send?.({ drained: true })
    }
    check()
  }
  if (msg === 'cpu') process.send?.({ cpu: process.cpuUsage() })
  if (typeof msg === 'object' && msg !== null && 'verify' in msg) {
    const { n, data, signature } = (msg as { verify: { n: number; data: string; signature: string } }).verify
    const input = Buffer.from(data)
    const sig = Buffer.from(signature, 'base64url')
    const before = process.cpuUsage()
    let ok = 0
    for (let i = 0; i < n; i++) if (verify(null, input, publicKey, sig)) ok++
    const used = process.cpuUsage(before)
    process.send?.({ verified: { ok, micros: used.user + used.system } })
  }
  if (msg === 'exit') process.exit(0)
})
