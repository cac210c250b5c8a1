/**
 * A real Redis for tests: Debian's redis-server on a free loopback port, in
 * memory only (no RDB/AOF files). No binary means the test FAILS with what to
 * install: it never skips.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { freePort } from './free-port.js'

const REDIS_SERVER = '/usr/bin/redis-server'

export interface TestRedis {
  readonly url: string
  stop(): Promise<void>
}

export async function startRedis(): Promise<TestRedis> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} not found: apt-get install -y redis-server`)
  const port = await freePort()
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('Ready to accept connections')) resolve()
    })
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output.slice(-500)}`)))
  })
  child.stdout.resume()
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      await exited
    },
  }
}
