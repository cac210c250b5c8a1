import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { Credential } from '@mqtt-oidc/core'

/** Commits credential batches; resolves once a batch is on disk (synchronous=FULL). */
export interface SqliteCredentialWriter {
  /** Rejects with the SQLite error (its `code` kept) when the transaction fails; then nothing of the batch was written. */
  insertMany(credentials: readonly Credential[]): Promise<void>
  close(): Promise<void>
}

/** A failed write as the worker reports it. */
export class SqliteWriteError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message)
    this.name = 'SqliteWriteError'
  }
}

// The worker's whole program: its own connection to the same file, one prepared insert, one
// transaction per batch. CommonJS in an eval'd worker, so no loader or build step is involved.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.path)
db.pragma('journal_mode = WAL')
db.pragma('synchronous = FULL')
db.pragma('foreign_keys = ON')
db.pragma('busy_timeout = 5000')
const insert = db.prepare('INSERT INTO credentials (jti, broker, client_id, username, issued_at, expires_at, source, issued_by) ' +
  'VALUES (@jti, @broker, @clientId, @username, @issuedAt, @expiresAt, @source, @issuedBy)')
const insertAll = db.transaction((list) => { for (const c of list) insert.run(c) })
parentPort.on('message', ({ id, list }) => {
  try {
    insertAll.immediate(list)
    parentPort.postMessage({ id })
  } catch (err) {
    parentPort.postMessage({ id, code: err && err.code, message: String(err && err.message) })
  }
})
`

/**
 * Credential records written by a worker thread on its own connection to
 * the database file. Every token the exchange hands out is recorded durably
 * first (WAL, synchronous=FULL: an fsync per transaction), and better-sqlite3
 * is synchronous: on the main thread that fsync would stop the event loop
 * once per batch. Here the main thread only posts the batch and awaits the
 * answer. The worker starts on the first write and holds the process open
 * only while a write is pending.
 */
export function createSqliteCredentialWriter(path: string): SqliteCredentialWriter {
  let worker: Worker | undefined
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>()
  let nextId = 0

  const failAll = (err: Error): void => {
    for (const p of pending.values()) p.reject(err)
    pending.clear()
  }
  const start = (): Worker => {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3')
    const w = new Worker(WORKER, { eval: true, workerData: { path, driver } })
    w.on('message', ({ id, code, message }: { id: number; code?: string; message?: string }) => {
      const p = pending.get(id)
      pending.delete(id)
      if (pending.size === 0) w.unref()
      if (message === undefined) p?.resolve()
      else p?.reject(new SqliteWriteError(message, code))
    })
    // A worker that dies takes its pending batches with it (their transactions rolled back); the next write starts a new one.
    const lost = (err: Error): void => {
      if (worker === w) worker = undefined
      failAll(err)
    }
    w.on('error', lost)
    w.on('exit', (exitCode) => lost(new Error(`the credential writer stopped (exit code ${exitCode})`)))
    return w
  }

  return {
    insertMany(list) {
      if (list.length === 0) return Promise.resolve()
      worker ??= start()
      worker.ref()
      const id = nextId++
      const w = worker
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject })
        w.postMessage({ id, list })
      })
    },
    async close() {
      const w = worker
      worker = undefined
      if (w) await w.terminate()
      failAll(new Error('the store is closed'))
    },
  }
}
