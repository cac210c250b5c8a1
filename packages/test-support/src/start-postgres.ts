/**
 * A real PostgreSQL server for tests: Debian's binaries, a fresh cluster in a
 * temp dir (initdb), on a free loopback port. No server or binaries means the
 * test FAILS with what to install: it never skips.
 */
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.js'
import pg from 'pg'

export interface TestPostgres {
  /** A new, empty database; returns its connection string. */
  createDatabase(): Promise<string>
  /** Stops the server (fast shutdown: open connections are cut), waits `downMs`, starts it again on the same port and data. */
  restart(downMs?: number): Promise<void>
  stop(): Promise<void>
}

function serverBin(): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : []
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0]
  if (!newest) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: apt-get install -y postgresql')
  return join(root, newest, 'bin')
}

/** A server binary's command line, as the `postgres` user when we are root (initdb refuses root). */
function command(bin: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args]
}

function run(bin: string, args: string[]): void {
  const [cmd, argv] = command(bin, args)
  execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
}

/** `run` without blocking the event loop (for a restart while clients are being served). */
async function runAsync(bin: string, args: string[]): Promise<void> {
  const [cmd, argv] = command(bin, args)
  await promisify(execFile)(cmd, argv)
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = serverBin()
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-pg-'))
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim())
    chownSync(dir, uid, gid)
  }
  const data = join(dir, 'data')
  const port = await freePort()
  run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'])
  // fsync off: these clusters are thrown away; durability tests use SQLite or say so.
  const startArgs = ['-D', data, '-l', join(dir, 'server.log'), '-w', '-o', `-p ${port} -h 127.0.0.1 -k ${dir} -F -c max_connections=200`, 'start']
  run(join(bin, 'pg_ctl'), startArgs)
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`
  let n = 0
  return {
    async createDatabase() {
      const name = `t${process.pid}_${++n}`
      const client = new pg.Client({ connectionString: admin })
      await client.connect()
      try {
        await client.query(`CREATE DATABASE ${name}`)
      } finally {
        await client.end()
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`
    },
    async restart(downMs = 0) {
      await runAsync(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'])
      await new Promise((resolve) => setTimeout(resolve, downMs))
      await runAsync(join(bin, 'pg_ctl'), startArgs)
    },
    async stop() {
      try {
        run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}
