import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'

// The exchange package's directory: tsx (its dev dependency) resolves from there.
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url))
const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))

/**
 * The exchange running as a real child process, on its sources: `node --conditions=@mqtt-oidc/source --import tsx apps/exchange/src/main.ts`
 * (the tsx CLI would run it in a grandchild that a SIGKILL of the child leaves alive).
 */
export interface ChildExchange {
  readonly url: string
  readonly child: ChildProcess
  /** SIGKILL: no shutdown hook runs, nothing is flushed on the way out. */
  kill(): Promise<void>
}

/** Starts the exchange with `env` (MQTT_OIDC_* only) and resolves once it logs "exchange ready". */
export async function startChildExchange(env: Record<string, string>, port: number): Promise<ChildExchange> {
  const child = spawn(process.execPath, ['--conditions=@mqtt-oidc/source', '--import', 'tsx', MAIN], {
    cwd: PACKAGE_DIR,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, MQTT_OIDC_EXCHANGE_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const lines = createInterface({ input: child.stdout })
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`exchange exited (${code}) before ready: ${stderr}`))
    child.once('exit', onExit)
    lines.on('line', (line) => {
      if (line.includes('"exchange ready"')) {
        child.off('exit', onExit)
        resolve()
      }
    })
  })
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    },
  }
}
