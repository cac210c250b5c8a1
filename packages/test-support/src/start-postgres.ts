/**
 * A real PostgreSQL server for tests: Debian's binaries, a fresh cluster in a
 * temp dir (initdb), on a free loopback port. No server or binaries means the
 * test FAILS with what to install: it never skips.
 */
import { execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.js'
import pg from 'pg'

export interface TestPostgres {
  /** A new, empty database; returns its connection string. */
  createDatabase(): Promise<string>
  stop(): Promise<void>
}

function serverBin(): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : []
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0]
  if (!newest) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: apt-get install -y postgresql')
  return join(root, newest, 'bin')
}


/** Runs a server binary, as the `postgres` user when we are root (initdb refuses root). */
function run(bin: string, args: string[]): void {
  const asRoot = process.getuid?.() === 0
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args]
  execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
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
  run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-o', `-p ${port} -h 127.0.0.1 -k ${dir} -F -c max_connections=200`, 'start'])
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`
  let n = 0
  return {
    async createDatabase() {
      const name = `t${process.pid}_${++n}`
      const client = new pg.Client({ connectionString: admin })
      await client.connect()
      try { await client.query(`CREATE DATABASE ${name}`) } finally { await client.end() }
      return `postgres://postgres@127.0.0.1:${port}/${name}`
    },
    async stop() {
      try { run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']) } finally { rmSync(dir, { recursive: true, force: true }) }
    },
  }
}
