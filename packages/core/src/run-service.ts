import { constants } from 'node:os'
import { ConfigError } from './config-error.js'

/** Where runService's own lines go once the app has a logger. */
export type ServiceLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void

/** What an app's start-up is given by runService. */
export interface ServiceControl {
  /**
   * Adds a part to close when the service stops (or its start-up fails).
   * Parts close one at a time, the last added first: a server before the
   * store it writes to.
   */
  onStop(name: string, close: () => Promise<void>): void
  /** Sends runService's own lines (stopping, a close that failed) to the app's logger from now on; until then they go to stderr. */
  useLog(log: ServiceLog): void
  /** True once a signal began the stop: a start-up still under way can tell being stopped from failing. */
  readonly stopping: boolean
}

/** Exit code of a service whose configuration is invalid (ConfigError): the same in every app. */
export const EXIT_CONFIG = 2

/**
 * Runs an app: its start-up, then until SIGINT or SIGTERM. The first signal
 * closes the parts the start-up added (onStop), in reverse order, one at a
 * time, and exits 0, or 1 when a close failed (the rest still close). A
 * second signal while closing exits at once with 128 + its number (130 for
 * SIGINT, 143 for SIGTERM), as a shell reports a process a signal ended.
 *
 * A start-up that throws ConfigError prints its lines on stderr and exits
 * 2 (EXIT_CONFIG); any other failure closes what had started and exits 1,
 * saying why in one line (a failed system call, such as `listen EADDRINUSE:
 * address already in use 127.0.0.1:4000`, without a stack, which would only
 * hide it; anything else with its stack, a bug to find). A signal during
 * start-up stops the service as it stands.
 *
 * @example
 * runService('exchange', async (service) => {
 *   const config = loadConfig()
 *   const store = await openStore(...)
 *   service.onStop('store', () => store.close())
 *   ...
 * })
 */
export function runService(name: string, start: (service: ServiceControl) => Promise<void>): void {
  const parts: Array<{ name: string; close: () => Promise<void> }> = []
  let log: ServiceLog = (_level, msg, fields) => {
    const stack = fields?.err instanceof Error && fields.err.stack ? `\n${fields.err.stack}` : ''
    process.stderr.write(`${name}: ${msg}${stack}\n`)
  }
  let stopping = false

  const closeAll = async (): Promise<boolean> => {
    let ok = true
    for (const part of parts.splice(0).reverse()) {
      try {
        await part.close()
      } catch (err) {
        ok = false
        log('error', `closing the ${part.name} failed: ${oneLine(err)}`, { ...(isSystemError(err) ? {} : { err }), part: part.name })
      }
    }
    return ok
  }

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log('warn', `${signal} again: exiting without waiting for the rest to close`, { signal })
      process.exit(128 + (constants.signals[signal] ?? 0))
    }
    stopping = true
    log('info', 'stopping', { signal })
    void closeAll().then((ok) => process.exit(ok ? 0 : 1))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const control: ServiceControl = {
    onStop: (part, close) => {
      parts.push({ name: part, close })
    },
    useLog: (next) => {
      log = next
    },
    get stopping() {
      return stopping
    },
  }
  // Until start-up ends, hold the event loop: a start-up waiting only on unref'd timers (request
  // timeouts, back-off) would otherwise let Node end the process with exit code 0, which a supervisor
  // takes for a clean stop. Once started, the parts' own servers hold it.
  const starting = setInterval(() => {}, 1 << 30)
  start(control)
    .finally(() => clearInterval(starting))
    .catch(async (err: unknown) => {
      if (stopping) return // stopped while starting: the stop finishes it
      stopping = true
      if (err instanceof ConfigError) {
        process.stderr.write(`${err.message}\n`)
        await closeAll()
        process.exit(EXIT_CONFIG)
      }
      log('error', `${name} failed to start: ${oneLine(err)}`, isSystemError(err) ? {} : { err })
      await closeAll()
      process.exit(1)
    })
}

/** A failed system call (a port in use, a file not found): its message says it all, a stack would only hide it. */
function isSystemError(err: unknown): boolean {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && typeof (err as { syscall?: unknown }).syscall === 'string'
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''
}
