import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export interface BenchBroker {
  readonly port: number
  /** Memory after a full GC in the broker process, and its live sessions. */
  memory(): Promise<{ mem: NodeJS.MemoryUsage; sessions: number }>
  stop(): Promise<void>
}

/** Starts bench/lib/bench-broker.ts in a child process (tsx, --expose-gc), on `port` (default any free one). */
export function spawnBenchBroker(mode: 'jwt' | 'open', jwks: string, port = 0): Promise<BenchBroker> {
  const child = forkBroker(mode, jwks, port, false)
  return connected(child)
}

/**
 * Starts a bench broker that is set up but not listening yet: `listen()`
 * opens its port (for a restart with a downtime the caller decides, the
 * same for every mode).
 */
export async function spawnDeferredBenchBroker(mode: 'jwt' | 'open', jwks: string, port: number): Promise<{ listen(): Promise<BenchBroker>; stop(): void }> {
  const child = forkBroker(mode, jwks, port, true)
  await new Promise<void>((resolve) => {
    const on = (msg: Record<string, unknown>): void => {
      if (!('ready' in msg)) return
      child.off('message', on)
      resolve()
    }
    child.on('message', on)
  })
  return {
    listen() {
      const broker = connected(child)
      child.send('listen')
      return broker
    },
    stop: () => void child.kill(),
  }
}

function forkBroker(mode: 'jwt' | 'open', jwks: string, port: number, deferred: boolean): ChildProcess {
  return fork(fileURLToPath(new URL('./bench-broker.ts', import.meta.url)), [], {
    execArgv: ['--conditions=@mqtt-oidc/source', '--import', 'tsx', '--expose-gc'],
    env: { ...process.env, BENCH_MODE: mode, BENCH_JWKS: jwks, BENCH_PORT: String(port), ...(deferred ? { BENCH_LISTEN: 'deferred' } : {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}

function connected(child: ChildProcess): Promise<BenchBroker> {
  const next = <T>(key: string): Promise<T> => new Promise((resolve) => {
    const on = (msg: Record<string, unknown>): void => {
      if (!(key in msg)) return
      child.off('message', on)
      resolve(msg as T)
    }
    child.on('message', on)
  })
  return next<{ port: number }>('port').then(({ port }) => ({
    port,
    memory() {
      const reply = next<{ mem: NodeJS.MemoryUsage; sessions: number }>('mem')
      child.send('mem')
      return reply
    },
    stop: () => new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.send('exit')
    }),
  }))
}
