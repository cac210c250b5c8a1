#!/usr/bin/env node
// Health checks of the docker-compose.yml services, in the image as
// /app/scripts/healthcheck.mjs and run in exec form
// (`["CMD", "node", "scripts/healthcheck.mjs", "<service>"]`), which every
// engine runs the same way. Each check proves what the service is for, from
// inside its container, with the service's own environment:
//
//   idp        discovery answers with the configured issuer, and its JWKS holds a key
//   exchange   its JWKS (what brokers verify with) holds a key
//   broker     the revocation feed was heard from within the feed's staleness limit,
//              a JWKS key is held, and an MQTT CONNECT gets a CONNACK that is not
//              "server unavailable"
//   emqx-hook  its authentication endpoint answers EMQX's request with a decision
//   gateway    a reading was acknowledged by the broker recently (--status-file)
//
// Exit 0 healthy, 1 not (the reason on stderr). No dependencies: node only.
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'

const env = process.env
const TIMEOUT_MS = 4000
const local = (port, path) => `http://127.0.0.1:${port}${path}`

async function getJson(url, init = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' })
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`)
  return res.json()
}

function requireKeys(jwks, what) {
  const n = Array.isArray(jwks?.keys) ? jwks.keys.length : 0
  if (n === 0) throw new Error(`${what} holds no key`)
  return n
}

const checks = {
  async idp() {
    const port = env.MQTT_OIDC_IDP_PORT ?? '4000'
    const meta = await getJson(local(port, '/.well-known/openid-configuration'))
    const issuer = env.MQTT_OIDC_IDP_ISSUER ?? `http://localhost:${port}`
    if (meta.issuer !== issuer) throw new Error(`discovery names issuer ${meta.issuer}, expected ${issuer}`)
    requireKeys(await getJson(local(port, new URL(meta.jwks_uri).pathname)), 'the IdP JWKS')
  },

  async exchange() {
    requireKeys(await getJson(local(env.MQTT_OIDC_EXCHANGE_PORT ?? '4001', '/.well-known/jwks.json')), 'the exchange JWKS')
  },

  async broker() {
    const port = env.MQTT_OIDC_BROKER_METRICS_PORT
    if (!port) throw new Error('MQTT_OIDC_BROKER_METRICS_PORT is not set: the check reads the feed lag from the metrics')
    const res = await fetch(local(port, '/metrics'), { signal: AbortSignal.timeout(TIMEOUT_MS) })
    const text = await res.text()
    const metric = (name) => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)
      return m ? Number(m[1]) : Number.NaN
    }
    const lag = metric('mqtt_oidc_broker_revocation_feed_lag_seconds')
    const maxStale = Number(env.MQTT_OIDC_BROKER_FEED_MAX_STALE_SECONDS ?? 60)
    if (!(lag < maxStale)) throw new Error(`revocation feed last heard ${lag} s ago (limit ${maxStale} s)`)
    if (!(metric('mqtt_oidc_broker_jwks_keys') >= 1)) throw new Error('no JWKS key held')
    const code = await connack(Number(env.MQTT_OIDC_BROKER_MQTT_PORT ?? 1883))
    if (code === 3) throw new Error('CONNACK 3: the broker refuses new clients (server unavailable)')
  },

  async 'emqx-hook'() {
    const port = env.MQTT_OIDC_BROKER_EMQX_HOOK_PORT ?? '8991'
    const answer = await getJson(local(port, '/emqx/authn'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientid: 'healthcheck', username: '', password: '', peerhost: '127.0.0.1' }),
    })
    if (typeof answer?.result !== 'string') throw new Error(`the hook answered without a decision: ${JSON.stringify(answer)}`)
  },

  async gateway() {
    const [file, maxAge = '30'] = process.argv.slice(3)
    if (!file) throw new Error('usage: healthcheck.mjs gateway <status file> [max age in seconds, default 30]')
    const status = JSON.parse(readFileSync(file, 'utf8'))
    const age = (Date.now() - Date.parse(status.at)) / 1000
    if (!(age < Number(maxAge))) throw new Error(`last acknowledged reading ${Math.round(age)} s ago (limit ${maxAge} s)`)
  },
}

/** Sends an MQTT 3.1.1 CONNECT with no credentials and resolves with the CONNACK return code. */
function connack(port) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const done = (fn, value) => { socket.destroy(); fn(value) }
    socket.setTimeout(TIMEOUT_MS, () => done(reject, new Error(`no CONNACK on port ${port} within ${TIMEOUT_MS} ms`)))
    socket.on('error', (err) => done(reject, err))
    socket.on('connect', () => {
      const clientId = Buffer.from('healthcheck')
      const body = Buffer.concat([
        Buffer.from([0, 4]), Buffer.from('MQTT'), Buffer.from([4, 0x02, 0, 10]), // protocol, level 4, clean session, keepalive 10 s
        Buffer.from([0, clientId.length]), clientId,
      ])
      socket.write(Buffer.concat([Buffer.from([0x10, body.length]), body]))
    })
    let received = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk])
      if (received.length < 4) return
      if (received[0] !== 0x20) return done(reject, new Error(`expected a CONNACK, got packet type 0x${received[0].toString(16)}`))
      done(resolve, received[3])
    })
  })
}

const name = process.argv[2]
const check = checks[name]
if (!check) {
  process.stderr.write(`usage: healthcheck.mjs ${Object.keys(checks).join('|')}\n`)
  process.exit(2)
}
check().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${name} unhealthy: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  },
)
