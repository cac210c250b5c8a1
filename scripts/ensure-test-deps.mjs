#!/usr/bin/env node
// The test suite drives real clients nobody here wrote (mosquitto_pub/sub,
// Debian's mosquitto-clients, python3-paho-mqtt, oidc-agent-cli), a real MQTT 5
// broker (Debian's mosquitto, started by the tests on their own ports), a real OIDC
// provider nobody here wrote (glewlwyd), a metadata validator
// (python3-authlib), real Chromium, real PostgreSQL, RabbitMQ and Redis
// servers, and a real container engine for docker-compose.yml (podman with
// podman-compose, runc, the CNI dnsname plugin, and debootstrap for the
// base-image stand-ins). Install them when this is a Debian machine and we are
// root (podman through scripts/podman-setup.sh, which also sets what this kind
// of machine needs); otherwise say exactly what is missing. Tests never skip
// when a tool is missing: they fail.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'

// What scripts/podman-setup.sh installs (its PACKAGES) and writes.
const PODMAN = [
  { path: '/usr/bin/podman', pkg: 'podman' },
  { path: '/usr/bin/podman-compose', pkg: 'podman-compose' },
  { path: '/usr/sbin/runc', pkg: 'runc' },
  { path: '/usr/lib/cni/dnsname', pkg: 'golang-github-containernetworking-plugin-dnsname' },
  { path: '/usr/sbin/iptables', pkg: 'iptables' },
  { path: '/usr/sbin/debootstrap', pkg: 'debootstrap' },
  { path: '/etc/containers/containers.conf.d/50-mqtt-oidc.conf', pkg: 'podman settings (scripts/podman-setup.sh)', setup: true },
]

const NEEDED = [
  { path: '/usr/bin/mosquitto_pub', pkg: 'mosquitto-clients' },
  { path: '/usr/bin/mosquitto_sub', pkg: 'mosquitto-clients' },
  { path: '/usr/sbin/mosquitto', pkg: 'mosquitto' },
  { path: '/usr/bin/chromium', pkg: 'chromium' },
  { path: postgresInitdb(), pkg: 'postgresql' },
  { path: '/usr/sbin/rabbitmq-server', pkg: 'rabbitmq-server' },
  { path: '/usr/lib/python3/dist-packages/paho/mqtt/client.py', pkg: 'python3-paho-mqtt' },
  { path: '/usr/bin/redis-server', pkg: 'redis-server' },
  { path: '/usr/bin/oidc-gen', pkg: 'oidc-agent-cli' },
  { path: '/usr/bin/glewlwyd', pkg: 'glewlwyd' },
  { path: '/usr/bin/python3', pkg: 'python3' },
  { path: '/usr/lib/python3/dist-packages/authlib/__init__.py', pkg: 'python3-authlib' },
  ...PODMAN,
]

function postgresInitdb() {
  const root = '/usr/lib/postgresql'
  const found = existsSync(root) && readdirSync(root).find((v) => existsSync(`${root}/${v}/bin/initdb`))
  return found ? `${root}/${found}/bin/initdb` : `${root}/<version>/bin/initdb`
}

const absent = NEEDED.filter((n) => !existsSync(n.path))
const missing = [...new Set(absent.filter((n) => !n.setup).map((n) => n.pkg))]
const podmanMissing = absent.some((n) => PODMAN.includes(n))
if (absent.length === 0) process.exit(0)

const canApt = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')
if (!canApt) {
  if (missing.length > 0)
    console.error(`mqtt-oidc: the tests need Debian packages ${missing.join(' ')}; install them with: sudo apt-get install -y ${missing.join(' ')}`)
  if (podmanMissing) console.error('mqtt-oidc: the compose test needs podman set up as root: sudo bash scripts/podman-setup.sh')
  process.exit(1)
}
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
const run = (args) => spawnSync('apt-get', args, { env, stdio: 'inherit' }).status === 0
const others = missing.filter((pkg) => !PODMAN.some((n) => n.pkg === pkg))
if (others.length > 0) {
  console.error(`mqtt-oidc: installing ${others.join(' ')} for the tests (apt-get)`)
  if (!run(['update', '-qq']) || !run(['install', '-y', '-qq', '--no-install-recommends', ...others])) {
    console.error(`mqtt-oidc: apt-get install ${others.join(' ')} failed`)
    process.exit(1)
  }
  if (others.includes('mosquitto')) stopMosquittoService()
}
if (podmanMissing) {
  console.error('mqtt-oidc: setting up podman for the compose test (scripts/podman-setup.sh)')
  const root = new URL('..', import.meta.url).pathname
  if (spawnSync('bash', [`${root}scripts/podman-setup.sh`], { env, stdio: 'inherit' }).status !== 0) {
    console.error('mqtt-oidc: scripts/podman-setup.sh failed')
    process.exit(1)
  }
}

// Debian's mosquitto package enables and may start a system broker on
// localhost:1883, the port `npm start`'s broker listens on. The tests start
// their own mosquitto on free ports, so the service we just installed is
// stopped and disabled rather than left in the way.
function stopMosquittoService() {
  const ok = existsSync('/run/systemd/system')
    ? run0('systemctl', ['disable', '--now', 'mosquitto.service'])
    : run0('/etc/init.d/mosquitto', ['stop']) && run0('update-rc.d', ['mosquitto', 'disable'])
  console.error(
    ok
      ? 'mqtt-oidc: stopped and disabled the mosquitto system service (the tests start their own)'
      : 'mqtt-oidc: could not stop the mosquitto system service; it may hold localhost:1883, which `npm start` needs',
  )
}

function run0(cmd, args) {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0
}
