import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
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

type BenchMode = 'jwt' | 'open' | 'verify' | 'minimal'

/**
 * Starts bench/lib/bench-broker.ts in a child process (tsx, --expose-gc, the built packages: run
 * `npm run build` first), on `port` (default any free one). `checkout`: the root of another built
 * checkout of this repository whose bench broker and packages to run instead (an A/B comparison).
 */
export function spawnBenchBroker(mode: BenchMode, jwks: string, port = 0, checkout?: string): Promise<BenchBroker> {
  return connected(forkBroker(mode, jwks, port, false, checkout))
}

/** A command a bench broker's node runs under (e.g. valgrind and its options), and the node to run. */
export interface BenchBrokerWrapper {
  readonly command: string
  readonly args: readonly string[]
}

/**
 * A bench broker whose node runs under `wrapper` (`valgrind --tool=callgrind ...`: the
 * wrapped process keeps the pid, so a tool's control command can address it).
 */
export async function spawnWrappedBenchBroker(mode: BenchMode, jwks: string, wrapper: BenchBrokerWrapper): Promise<BenchBroker & { readonly pid: number }> {
  const child = forkBroker(mode, jwks, 0, false, undefined, wrapper)
  const broker = await connected(child)
  return { ...broker, pid: child.pid as number }
}

/**
 * Starts a bench broker that is set up but not listening yet: `listen()`
 * opens its port (for a restart with a downtime the caller decides, the
 * same for every mode).
 */
export async function spawnDeferredBenchBroker(mode: BenchMode, jwks: string, port: number): Promise<{ listen(): Promise<BenchBroker>; stop(): void }> {
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

function forkBroker(mode: BenchMode, jwks: string, port: number, deferred: boolean, checkout?: string, wrapper?: BenchBrokerWrapper): ChildProcess {
  const script = checkout ? join(checkout, 'bench', 'lib', 'bench-broker.ts') : fileURLToPath(new URL('./bench-broker.ts', import.meta.url))
  // The packages as built (dist/, what `npm start` and the broker image run), not their sources:
  // tsx's transform gives every closure made per CONNECT a name-setting call that the built code has not.
  const nodeArgs = ['--import', 'tsx', '--expose-gc']
  return fork(script, [], {
    ...(checkout ? { cwd: checkout } : {}),
    ...(wrapper ? { execPath: wrapper.command, execArgv: [...wrapper.args, process.execPath, ...nodeArgs] } : { execArgv: nodeArgs }),
    env: { ...process.env, BENCH_MODE: mode, BENCH_JWKS: jwks, BENCH_PORT: String(port), ...(deferred ? { BENCH_LISTEN: 'deferred' } : {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}

function connected(child: ChildProcess): Promise<BenchBroker> {
  const next = <T>(key: string): Promise<T> =>
    new Promise((resolve) => {
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
    drained: async () => {
      await ask('drained', 'drain')
    },
    cpu: async () => {
      const { cpu } = await ask<{ cpu: NodeJS.CpuUsage }>('cpu', 'cpu')
      return cpu.user + cpu.system
    },
    rawVerify: async (n, data, signature) => {
      const { verified } = await ask<{ verified: { ok: number; micros: number } }>('verified', { verify: { n, data, signature } })
      if (verified.ok !== n) throw new Error(`raw verify failed ${n - verified.ok} of ${n} times`)
      return verified.micros
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.send('exit')
      }),
  }))
}
