#!/usr/bin/env node
// Health checks of the docker-compose.yml services, in the image as
// /app/scripts/healthcheck.mjs and run in exec form
// (`["CMD", "node", "scripts/healthcheck.mjs", "<service>"]`), which every
// engine runs the same way. Each check proves what the service is for, from
// inside its container, with the service's own environment:
//
//   idp        discovery answers with the configured issuer, its JWKS holds a key,
//              and /readyz says ready (its store answers, its keys are published)
//   exchange   its JWKS (what brokers verify with) holds a key, and /readyz says
//              ready (its store answers, its signing keys are published)
//   broker     /readyz on its metrics port says ready: the revocation feed was heard
//              from within the feed's staleness limit and a fresh JWKS key is held;
//              and an MQTT CONNECT gets a CONNACK that is not "server unavailable"
//   emqx-hook  /readyz on its port says ready (the same checks as the broker's), and
//              its authentication endpoint answers EMQX's request with a decision
//   gateway    a reading was acknowledged by the broker recently (--status-file)
//
// Exit 0 healthy, 1 not (the reason on stderr). No dependencies: node only.
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'

const env = process.env
const TIMEOUT_MS = 4000
const local = (port, path) => `http://127.0.0.1:${port}${path}`
// A part's port as the apps read it: its own variable, else MQTT_OIDC_PORT_BASE plus its
// offset (core's stack-ports.ts), else the usual port. Empty counts as unset.
const base = env.MQTT_OIDC_PORT_BASE ? Number(env.MQTT_OIDC_PORT_BASE) : undefined
const portOf = (variable, offset, usual) => env[variable] || String(base === undefined ? usual : base + offset)

async function getJson(url, init = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' })
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`)
  return res.json()
}

/** GET /readyz; throws with every failed check when the part is not ready. */
async function requireReady(port) {
  const res = await fetch(local(port, '/readyz'), { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' })
  const body = await res.json().catch(() => undefined)
  if (res.status === 200 && body?.status === 'ready') return
  const failed = Object.entries(body?.checks ?? {}).filter(([, c]) => !c.ok).map(([name, c]) => `${name} ${JSON.stringify(c)}`)
  throw new Error(`not ready (HTTP ${res.status}): ${failed.join('; ') || JSON.stringify(body)}`)
}

function requireKeys(jwks, what) {
  const n = Array.isArray(jwks?.keys) ? jwks.keys.length : 0
  if (n === 0) throw new Error(`${what} holds no key`)
  return n
}

const checks = {
  async idp() {
    const port = portOf('MQTT_OIDC_IDP_PORT', 0, 4000)
    const meta = await getJson(local(port, '/.well-known/openid-configuration'))
    const issuer = env.MQTT_OIDC_IDP_ISSUER || `http://localhost:${base ?? 4000}`
    if (meta.issuer !== issuer) throw new Error(`discovery names issuer ${meta.issuer}, expected ${issuer}`)
    requireKeys(await getJson(local(port, new URL(meta.jwks_uri).pathname)), 'the IdP JWKS')
    await requireReady(port)
  },

  async exchange() {
    const port = portOf('MQTT_OIDC_EXCHANGE_PORT', 1, 4001)
    requireKeys(await getJson(local(port, '/.well-known/jwks.json')), 'the exchange JWKS')
    await requireReady(port)
  },

  async broker() {
    const port = env.MQTT_OIDC_BROKER_METRICS_PORT
    if (!port) throw new Error('MQTT_OIDC_BROKER_METRICS_PORT is not set: the check reads /readyz (feed lag, keys) there')
    await requireReady(port)
    const code = await connack(Number(portOf('MQTT_OIDC_BROKER_MQTT_PORT', 2, 1883)))
    if (code === 3) throw new Error('CONNACK 3: the broker refuses new clients (server unavailable)')
  },

  async 'emqx-hook'() {
    const port = portOf('MQTT_OIDC_BROKER_EMQX_HOOK_PORT', 5, 8991)
    await requireReady(port)
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
