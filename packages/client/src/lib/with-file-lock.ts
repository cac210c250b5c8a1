import { open, readFile, stat, unlink } from 'node:fs/promises'
import { setTimeout as delay } from 'node:timers/promises'

export interface FileLockOptions {
  /** Give up after this many milliseconds. Default 30 000 (a refresh round trip holds the lock). */
  readonly timeoutMs?: number
  /** A lock file older than this (ms) is taken over even if its owner still runs. Default 120 000. */
  readonly staleMs?: number
}

/**
 * Runs `fn` while holding an exclusive lock file (`O_CREAT|O_EXCL`), so two
 * processes never read-modify-write the same file at once. A lock whose
 * owner process is gone, or that is older than `staleMs`, is taken over.
 * Waiting polls with a short, growing delay: there is no portable
 * notification for "another process released a lock file".
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  // Callers in this process queue in memory; only one of them at a time contends for the file.
  const previous = queues.get(lockPath) ?? Promise.resolve()
  const run = previous.then(() => acquire(lockPath, fn, options))
  const tail = run.then(
    () => undefined,
    () => undefined,
  )
  queues.set(lockPath, tail)
  void tail.then(() => {
    if (queues.get(lockPath) === tail) queues.delete(lockPath)
  })
  return run
}

const queues = new Map<string, Promise<void>>()

async function acquire<T>(lockPath: string, fn: () => Promise<T>, options: FileLockOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const staleMs = options.staleMs ?? 120_000
  const deadline = Date.now() + timeoutMs
  let wait = 5
  for (;;) {
    const handle = await open(lockPath, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') return undefined
      throw err
    })
    if (handle) {
      try {
        await handle.writeFile(`${process.pid}\n`)
      } finally {
        await handle.close()
      }
      try {
        return await fn()
      } finally {
        await unlink(lockPath).catch(() => undefined)
      }
    }
    if (await isStale(lockPath, staleMs)) {
      await unlink(lockPath).catch(() => undefined)
      continue
    }
    if (Date.now() >= deadline) throw new Error(`timed out waiting for the lock ${lockPath} (held by another mqtt-oidc process?)`)
    await delay(wait)
    wait = Math.min(wait * 2, 50)
  }
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  try {
    const [info, text] = await Promise.all([stat(lockPath), readFile(lockPath, 'utf8')])
    if (Date.now() - info.mtimeMs > staleMs) return true
    const pid = Number.parseInt(text, 10)
    // An empty file is a lock being written right now, not a stale one.
    return Number.isSafeInteger(pid) && pid > 0 && !isAlive(pid)
  } catch {
    return false // vanished meanwhile: just retry
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
