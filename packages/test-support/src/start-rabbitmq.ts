import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'

export interface Rabbitmq {
  readonly mqttPort: number
  /** Server output so far (for failure messages). */
  output(): string
  stop(): Promise<void>
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo
      s.close(() => resolve(port))
    })
  })
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
}

/**
 * Starts Debian's RabbitMQ (rabbitmq_mqtt + rabbitmq_auth_backend_oauth2)
 * under a temp dir with its own node name, ports, cookie and epmd port;
 * tokens are checked against `jwksUrl` (http, so set in advanced.config)
 * and must carry `aud` = `resourceServerId`. Resolves once MQTT accepts TCP
 * (rabbitmq-server exits 0 even when it fails to boot, so the port decides).
 */
export async function startRabbitmq(options: { jwksUrl: string; resourceServerId: string; timeoutMs?: number }): Promise<Rabbitmq> {
  const dir = mkdtempSync(join(tmpdir(), 'rabbitmq-'))
  const [mqttPort, amqpPort, distPort, epmdPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
  for (const d of ['mnesia', 'log', 'home']) mkdirSync(join(dir, d))
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
      `mqtt.listeners.tcp.default = 127.0.0.1:${mqttPort}`,
      'mqtt.allow_anonymous = false',
      'auth_backends.1 = rabbit_auth_backend_oauth2',
      `auth_oauth2.resource_server_id = ${options.resourceServerId}`,
      'loopback_users = none',
      '',
    ].join('\n'),
  )
  writeFileSync(join(dir, 'advanced.config'), `[{rabbitmq_auth_backend_oauth2, [{key_config, [{jwks_url, "${options.jwksUrl}"}]}]}].\n`)
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_mqtt,rabbitmq_auth_backend_oauth2].\n')
  const env = {
    ...process.env,
    HOME: join(dir, 'home'),
    RABBITMQ_NODENAME: `mqtt-oidc-${process.pid}-${mqttPort}@localhost`,
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_LOGS: '-',
  }
  const child: ChildProcess = spawn(RABBITMQ_SERVER, [], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let out = ''
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()))
  let exited = false
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())))

  async function stop(): Promise<void> {
    if (!exited && child.pid) process.kill(-child.pid, 'SIGTERM')
    await exit
    // the epmd this node started on its own port (not the system one)
    await new Promise<void>((resolve) =>
      spawn('epmd', ['-kill'], { env, stdio: 'ignore' })
        .once('exit', () => resolve())
        .once('error', () => resolve()),
    )
    rmSync(dir, { recursive: true, force: true })
  }

  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  while (!(await portOpen(mqttPort))) {
    if (exited || Date.now() > deadline) {
      await stop()
      throw new Error(`RabbitMQ did not open its MQTT port:\n${out.slice(-4000)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return { mqttPort, output: () => out, stop }
}
