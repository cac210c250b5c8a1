import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export interface BenchBroker {
  readonly port: number
  /** Memory after a full GC in the broker process, and its live sessions. */
  memory(): Promise<{ mem: NodeJS.MemoryUsage; sessions: number }>
  stop(): Promise<void>
}

/** Starts bench/lib/bench-broker.ts in a child process (tsx, --expose-gc). */
export function spawnBenchBroker(mode: 'jwt' | 'open', jwks: string): Promise<BenchBroker> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./bench-broker.ts', import.meta.url)), [], {
    execArgv: ['--conditions=@mqtt-oidc/source', '--import', 'tsx', '--expose-gc'],
    env: { ...process.env, BENCH_MODE: mode, BENCH_JWKS: jwks },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
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
