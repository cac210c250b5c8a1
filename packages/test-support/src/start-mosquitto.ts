/**
 * A real MQTT 5 broker for tests: Debian's mosquitto (2.0.11 on bookworm) on
 * free loopback ports, with a config, password file and TLS key written to a
 * temp dir and removed on stop. It never reads /etc/mosquitto and never
 * listens on 1883, so a system mosquitto service (which Debian's package may
 * start) is neither used nor disturbed. No binary means the test FAILS with
 * what to install: it never skips.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.js'
import { writeSelfSignedCert } from './self-signed-cert.js'

const MOSQUITTO = '/usr/sbin/mosquitto'
const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd'

/** Files a listener's config lines may name. */
export interface MosquittoFiles {
  /** The `password_file` holding `users` (mode 0600); absent without `users`. */
  readonly passwordFile: string
  /** Self-signed certificate for 127.0.0.1 and localhost (`certfile`; also the CA a client trusts); absent without `tls`. */
  readonly certFile: string
  /** Its private key (`keyfile`, mode 0600); absent without `tls`. */
  readonly keyFile: string
}

export interface MosquittoOptions {
  /**
   * Each listener's own mosquitto.conf lines, by a name of the caller's
   * choosing (`per_listener_settings` is on, so `allow_anonymous`,
   * `password_file` etc. apply to that listener alone). Each gets a free port on 127.0.0.1.
   */
  readonly listeners: (files: MosquittoFiles) => Readonly<Record<string, readonly string[]>>
  /** Username → password, hashed into `files.passwordFile` by mosquitto_passwd. Default: none. */
  readonly users?: Readonly<Record<string, string>> | undefined
  /** Make `files.certFile` and `files.keyFile` (openssl, P-256). Default false. */
  readonly tls?: boolean | undefined
}

export interface TestMosquitto {
  /** The port of the listener named `name` in `options.listeners`. */
  port(name: string): number
  /** PEM of `files.certFile` (for a client's `ca`); empty without `tls`. */
  readonly ca: string
  /** The broker's log so far (every connection, CONNECT and CONNACK it handled). */
  output(): string
  stop(): Promise<void>
}

export async function startMosquitto(options: MosquittoOptions): Promise<TestMosquitto> {
  for (const bin of [MOSQUITTO, MOSQUITTO_PASSWD]) if (!existsSync(bin)) throw new Error(`${bin} not found: apt-get install -y mosquitto`)
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-mosquitto-'))
  try {
    const files: MosquittoFiles = { passwordFile: join(dir, 'passwords'), certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') }
    if (options.users) {
      writeFileSync(files.passwordFile, '', { mode: 0o600 })
      for (const [user, password] of Object.entries(options.users))
        execFileSync(MOSQUITTO_PASSWD, ['-b', files.passwordFile, user, password], { stdio: 'pipe' })
    }
    if (options.tls) {
      writeSelfSignedCert(files.keyFile, files.certFile)
    }
    const listeners = Object.entries(options.listeners(files))
    if (listeners.length === 0) throw new Error('startMosquitto: give at least one listener (without one mosquitto listens on 1883)')
    const ports = new Map<string, number>()
    for (const [name] of listeners) ports.set(name, await freePort())
    writeFileSync(
      join(dir, 'mosquitto.conf'),
      [
        // Run as whoever runs the tests: as root, mosquitto would otherwise switch to the
        // `mosquitto` user, who cannot read this 0700 temp dir.
        `user ${userInfo().username}`,
        'per_listener_settings true',
        'persistence false',
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        'log_type notice',
        'log_type information',
        'log_timestamp false',
        ...listeners.flatMap(([name, lines]) => [`listener ${ports.get(name)} 127.0.0.1`, ...lines]),
        '',
      ].join('\n'),
    )
    return await run(dir, ports, options.tls ? readFileSync(files.certFile, 'utf8') : '')
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}

async function run(dir: string, ports: ReadonlyMap<string, number>, ca: string): Promise<TestMosquitto> {
  const child = spawn(MOSQUITTO, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let output = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
  })
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    const onData = (): void => {
      if (/^mosquitto version \S+ running$/m.test(output)) done(resolve)
    }
    const onExit = (code: number | null): void => done(() => reject(new Error(`mosquitto exited (${code}) before it was running:\n${output.slice(-2000)}`)))
    const done = (settle: () => void): void => {
      child.stderr.off('data', onData)
      child.off('exit', onExit)
      child.off('error', reject)
      settle()
    }
    child.stderr.on('data', onData)
    child.once('exit', onExit)
    child.once('error', reject)
  })
  return {
    port(name) {
      const port = ports.get(name)
      if (port === undefined) throw new Error(`no mosquitto listener named ${name}`)
      return port
    },
    ca,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
