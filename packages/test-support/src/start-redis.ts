/**
 * A real Redis for tests: Debian's redis-server on a free loopback port, in
 * memory only (or with an append-only file, `durable`), restartable on the
 * same port. No binary means the test FAILS with what to install: it never
 * skips.
 */
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.js'

const REDIS_SERVER = '/usr/bin/redis-server'

export interface TestRedis {
  readonly url: string
  /** Stops the server (SIGTERM), keeping its files: an outage that `restart()` ends. */
  down(): Promise<void>
  /** Stops the server if it runs and starts it again on the same port after `downMs`; resolves once it accepts connections. */
  restart(downMs?: number): Promise<void>
  /** Stops it for good (a durable one's files are removed). */
  stop(): Promise<void>
}

export interface StartRedisOptions {
  /**
   * Keep the data across a restart, as a production Redis for aedes does: an
   * append-only file (fsync every second) in a temporary directory, removed by
   * `stop()`. Default false: memory only, a restart starts empty.
   */
  readonly durable?: boolean
}

export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} not found: apt-get install -y redis-server`)
  const port = await freePort()
  const dir = options.durable ? mkdtempSync(join(tmpdir(), 'mqtt-oidc-redis-')) : undefined
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--protected-mode',
    'no',
    ...(dir ? ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no']),
  ]
  let child = await launch(args)
  return {
    url: `redis://127.0.0.1:${port}`,
    down: () => stopChild(child),
    async restart(downMs = 0) {
      await stopChild(child)
      await new Promise((resolve) => setTimeout(resolve, downMs))
      child = await launch(args)
    },
    async stop() {
      await stopChild(child)
      if (dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function launch(args: readonly string[]): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(REDIS_SERVER, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin.end()
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (!output.includes('Ready to accept connections')) return
      child.stdout.off('data', onData)
      child.off('exit', onExit)
      resolve()
    }
    const onExit = (code: number | null): void => reject(new Error(`redis-server exited (${code}): ${output.slice(-500)}`))
    child.stdout.on('data', onData)
    child.stderr.on('data', (chunk: Buffer) => void (output += chunk.toString()))
    child.once('error', reject)
    child.once('exit', onExit)
  })
  child.stdout.resume()
  child.stderr.resume()
  return child
}

async function stopChild(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  await exited
}
