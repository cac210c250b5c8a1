import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export interface BenchBroker {
  readonly port: number
  /** Memory after a full GC in the broker process, and its live sessions. */
  memory(): Promise<{ mem: NodeJS.MemoryUsage; sessions: number }>
  /** Resolves once the broker has no session left (it says so itself: no polling). */
  drained(): Promise<void>
  /** The broker process's CPU time so far (`process.cpuUsage()`), in µs. */
  cpu(): Promise<number>
  /** CPU (µs) the broker process spends on `n` raw Ed25519 `crypto.verify` calls of this signed input with its JWKS key. */
  rawVerify(n: number, data: string, signature: string): Promise<number>
  stop(): Promise<void>
}

/** Starts bench/lib/bench-broker.ts in a child process (tsx, --expose-gc). */
export function spawnBenchBroker(mode: 'jwt' | 'open' | 'verify', jwks: string): Promise<BenchBroker> {
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
  const ask = <T>(key: string, message: unknown): Promise<T> => {
    const reply = next<T>(key)
    child.send(message as object)
    return reply
  }
  return next<{ port: number }>('port').then(({ port }) => ({
    port,
    memory: () => ask<{ mem: NodeJS.MemoryUsage; sessions: number }>('mem', 'mem'),
    drained: async () => { await ask('drained', 'drain') },
    cpu: async () => {
      const { cpu } = await ask<{ cpu: NodeJS.CpuUsage }>('cpu', 'cpu')
      return cpu.user + cpu.system
    },
    rawVerify: async (n, data, signature) => {
      const { verified } = await ask<{ verified: { ok: number; micros: number } }>('verified', { verify: { n, data, signature } })
      if (verified.ok !== n) throw new Error(`raw verify failed ${n - verified.ok} of ${n} times`)
      return verified.micros
    },
    stop: () => new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.send('exit')
    }),
  }))
}
