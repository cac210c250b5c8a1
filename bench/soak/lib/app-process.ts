import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createWriteStream, readdirSync, readFileSync } from 'node:fs'
import type { WriteStream } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Monitor } from './monitor.js'

const PROBE = fileURLToPath(new URL('./probe.ts', import.meta.url))
/**
 * Node flags that run an entry point on the TypeScript sources: tsx loads
 * the .ts, and workspace packages resolve to their src/ where their exports
 * offer it (the "@mqtt-oidc/source" condition), never to a stale dist/.
 */
export const SOURCE_EXEC_ARGV: readonly string[] = ['--conditions=@mqtt-oidc/source', '--import', 'tsx']
/** How long an app may take to say it is ready (tsx compiles its sources on each start). */
const START_TIMEOUT_MS = 60_000

/** Lines on stderr that are not faults: runtime notices printed before the app's logger exists. */
const BENIGN_STDERR = [/^oidc-provider WARNING: Unsupported runtime/, /^\(node:\d+\) \[?\w*\]? ?(Experimental|Deprecation)?Warning/, /^\(Use `node --trace-/]

export interface AppSpec {
  /** A name for logs and figures: `idp`, `exchange-1`, `broker-2`... */
  readonly name: string
  /** The app's directory (`apps/<app>`): the working directory, as with `pnpm --filter <app> start`. */
  readonly cwd: string
  /** Its entry point, relative to `cwd`, as its `start` script runs it (`src/main.ts`). */
  readonly entry: string
  /** The environment on top of the soak's own (MQTT_OIDC_* variables of the soak's shell are dropped). */
  readonly env: Readonly<Record<string, string>>
  /** The pino `msg` that says the app is serving. */
  readonly readyMsg: string
  /** Where every line the app prints is kept. */
  readonly logFile: string
}

export interface MemorySample {
  /** Epoch ms. */
  readonly at: number
  /** V8 heap in use after a full GC, bytes. */
  readonly heapUsed: number
  /** Resident set size, bytes (/proc/<pid>/status VmRSS). */
  readonly rss: number
  /** Open file descriptors (/proc/<pid>/fd). */
  readonly fds: number
}

/** One app as a separate process, restartable; its pino lines are watched for errors. */
export interface AppProcess {
  readonly name: string
  /** The current process id (changes on restart). */
  readonly pid: number | undefined
  /** Epoch ms at which the current process said it was ready. */
  readonly readyAt: number
  /** How many times it has been started. */
  readonly starts: number
  /** Lines at warn (pino level 40), by message, for the report. */
  readonly warnings: ReadonlyMap<string, number>
  /** Epoch ms at which the current process last logged `msg` (0: not since it started). */
  logged(msg: string): number
  /** Calls `listener` with every pino entry the app logs from now on. */
  onEntry(listener: (entry: Readonly<Record<string, unknown>>) => void): void
  start(): Promise<void>
  /** SIGTERM, and waits for the exit (the app closes cleanly on SIGTERM). */
  stop(): Promise<void>
  memory(): Promise<MemorySample>
}

/**
 * Starts an app's real entry point in its own Node process, on its sources
 * (`node --import tsx <entry>`, plus `--expose-gc` and the memory probe). Every stdout line that is pino JSON at level >= 50 (error),
 * anything unexpected on stderr, and any exit the soak did not ask for, is a
 * breach reported to `monitor`.
 */
export function createAppProcess(spec: AppSpec, monitor: Monitor): AppProcess {
  const log: WriteStream = createWriteStream(spec.logFile, { flags: 'a' })
  const warnings = new Map<string, number>()
  let child: ChildProcess | undefined
  let stopping = false
  let readyAt = 0
  let starts = 0
  let requests = 0
  let lastLogged = new Map<string, number>()
  const errorsSeen = new Set<string>()
  const entryListeners: Array<(entry: Readonly<Record<string, unknown>>) => void> = []

  const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MQTT_OIDC_') && k !== 'NODE_ENV' && k !== 'NODE_OPTIONS'))

  function onLine(line: string, onReady: () => void): void {
    log.write(`${line}\n`)
    let entry: { level?: unknown; msg?: unknown; err?: { message?: unknown } } | undefined
    try {
      entry = JSON.parse(line) as typeof entry
    } catch {
      return // plain lines (the broker's "listening on") are not log entries
    }
    const level = typeof entry?.level === 'number' ? entry.level : 0
    const msg = typeof entry?.msg === 'string' ? entry.msg : ''
    const kind = `${msg}|${typeof entry?.err?.message === 'string' ? entry.err.message : ''}`
    if (level >= 50 && !errorsSeen.has(kind)) {
      errorsSeen.add(kind) // once per kind: a run that goes on past its first breach is still readable
      monitor.fail('error-logged', `${spec.name} logged at level ${level}: ${line.slice(0, 600)}`)
    } else if (level === 40) warnings.set(msg, (warnings.get(msg) ?? 0) + 1)
    lastLogged.set(msg, Date.now())
    for (const listener of entryListeners) listener(entry as Record<string, unknown>)
    if (msg === spec.readyMsg) onReady()
  }

  function start(): Promise<void> {
    if (child) throw new Error(`${spec.name} is already running`)
    stopping = false
    starts += 1
    lastLogged = new Map()
    const proc = fork(join(spec.cwd, spec.entry), [], {
      cwd: spec.cwd,
      execArgv: [...SOURCE_EXEC_ARGV, '--expose-gc', '--import', PROBE],
      env: { ...baseEnv, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    child = proc
    log.write(`--- start ${starts} pid ${proc.pid} at ${new Date().toISOString()}\n`)
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${spec.name} did not log "${spec.readyMsg}" within ${START_TIMEOUT_MS / 1000} s (see ${spec.logFile})`)),
        START_TIMEOUT_MS,
      )
      const ready = (): void => {
        clearTimeout(timer)
        readyAt = Date.now()
        resolve()
      }
      createInterface({ input: proc.stdout! }).on('line', (line) => onLine(line, ready))
      createInterface({ input: proc.stderr! }).on('line', (line) => {
        log.write(`stderr: ${line}\n`)
        if (line.trim() !== '' && !BENIGN_STDERR.some((re) => re.test(line)))
          monitor.fail('error-logged', `${spec.name} wrote to stderr: ${line.slice(0, 600)}`)
      })
      proc.once('exit', (code, signal) => {
        log.write(`--- exit ${code ?? signal} at ${new Date().toISOString()}\n`)
        if (child === proc) child = undefined
        clearTimeout(timer)
        if (!stopping) {
          monitor.fail('process-died', `${spec.name} (pid ${proc.pid}) exited on its own: ${code ?? signal} (see ${spec.logFile})`)
          reject(new Error(`${spec.name} exited: ${code ?? signal}`))
        } else if (code !== 0) {
          monitor.fail('process-died', `${spec.name} (pid ${proc.pid}) exited ${code ?? signal} when stopped with SIGTERM (see ${spec.logFile})`)
        }
      })
    })
  }

  async function stop(): Promise<void> {
    const proc = child
    if (!proc) return
    stopping = true
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
    proc.kill('SIGTERM')
    const killer = setTimeout(() => proc.kill('SIGKILL'), 15_000)
    await exited
    clearTimeout(killer)
  }

  function memory(): Promise<MemorySample> {
    const proc = child
    const pid = proc?.pid
    if (!proc || pid === undefined) return Promise.reject(new Error(`${spec.name} is not running`))
    const id = ++requests
    return new Promise<MemorySample>((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.off('message', onMessage)
        reject(new Error(`${spec.name} did not answer the memory probe within 10 s`))
      }, 10_000)
      const onMessage = (m: unknown): void => {
        const reply = m as { type?: string; id?: number; heapUsed?: number }
        if (reply.type !== 'soak:memory' || reply.id !== id) return
        clearTimeout(timer)
        proc.off('message', onMessage)
        try {
          resolve({ at: Date.now(), heapUsed: reply.heapUsed ?? 0, rss: vmRss(pid), fds: readdirSync(`/proc/${pid}/fd`).length })
        } catch (err) {
          reject(err)
        }
      }
      proc.on('message', onMessage)
      proc.send({ type: 'soak:memory', id })
    })
  }

  return {
    name: spec.name,
    get pid() {
      return child?.pid
    },
    get readyAt() {
      return readyAt
    },
    get starts() {
      return starts
    },
    warnings,
    logged: (msg) => lastLogged.get(msg) ?? 0,
    onEntry: (listener) => void entryListeners.push(listener),
    start,
    stop,
    memory,
  }
}

/** VmRSS of a process, bytes. */
function vmRss(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  if (kb === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`)
  return Number(kb) * 1024
}
