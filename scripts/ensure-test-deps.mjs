#!/usr/bin/env node
// The test suite drives real clients nobody here wrote (mosquitto_pub/sub,
// Debian's mosquitto-clients, python3-paho-mqtt, oidc-agent-cli), a real OIDC
// provider nobody here wrote (glewlwyd), a metadata validator (python3-authlib), real Chromium, and real PostgreSQL, RabbitMQ and Redis servers. Install them when this is a
// Debian machine and we are root; otherwise say exactly what is missing.
// Tests never skip when a tool is missing: they fail.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'

const NEEDED = [
  { path: '/usr/bin/mosquitto_pub', pkg: 'mosquitto-clients' },
  { path: '/usr/bin/mosquitto_sub', pkg: 'mosquitto-clients' },
  { path: '/usr/bin/chromium', pkg: 'chromium' },
  { path: postgresInitdb(), pkg: 'postgresql' },
  { path: '/usr/sbin/rabbitmq-server', pkg: 'rabbitmq-server' },
  { path: '/usr/lib/python3/dist-packages/paho/mqtt/client.py', pkg: 'python3-paho-mqtt' },
  { path: '/usr/bin/redis-server', pkg: 'redis-server' },
  { path: '/usr/bin/oidc-gen', pkg: 'oidc-agent-cli' },
  { path: '/usr/bin/glewlwyd', pkg: 'glewlwyd' },
  { path: '/usr/bin/python3', pkg: 'python3' },
  { path: '/usr/lib/python3/dist-packages/authlib/__init__.py', pkg: 'python3-authlib' },
]

function postgresInitdb() {
  const root = '/usr/lib/postgresql'
  const found = existsSync(root) && readdirSync(root).find((v) => existsSync(`${root}/${v}/bin/initdb`))
  return found ? `${root}/${found}/bin/initdb` : `${root}/<version>/bin/initdb`
}

const missing = [...new Set(NEEDED.filter((n) => !existsSync(n.path)).map((n) => n.pkg))]
if (missing.length === 0) process.exit(0)

const canApt = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')
if (!canApt) {
  console.error(`mqtt-oidc: the tests need Debian packages ${missing.join(' ')}; install them with: sudo apt-get install -y ${missing.join(' ')}`)
  process.exit(1)
}
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
const run = (args) => spawnSync('apt-get', args, { env, stdio: 'inherit' }).status === 0
console.error(`mqtt-oidc: installing ${missing.join(' ')} for the tests (apt-get)`)
if (!run(['update', '-qq']) || !run(['install', '-y', '-qq', '--no-install-recommends', ...missing])) {
  console.error(`mqtt-oidc: apt-get install ${missing.join(' ')} failed`)
  process.exit(1)
}
