import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { runCommand, type CommandRun } from './run-command.js'

const require = createRequire(import.meta.url)
/** tsx's ESM loader, resolved from this package (a dependency of @mqtt-oidc/test-support). */
export const TSX_LOADER = pathToFileURL(require.resolve('tsx')).href
/**
 * Node flags that run a script on the TypeScript sources: workspace packages
 * resolve to their src/ (the "@mqtt-oidc/source" export condition) and tsx
 * loads the .ts, so a test never runs a dist/ that is stale or missing.
 */
export const SOURCE_EXEC_ARGV: readonly string[] = ['--conditions=@mqtt-oidc/source', '--import', TSX_LOADER]

export type RunResult = CommandRun

/** Runs `node <SOURCE_EXEC_ARGV> <script> ...args` to completion, collecting output. */
export function runNode(script: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<RunResult> {
  return runCommand(process.execPath, [...SOURCE_EXEC_ARGV, script, ...args], {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    input: options.input,
  })
}

export interface RunningProcess {
  /** Resolves once stderr has printed a line matching `pattern`; rejects if the process exits first. */
  waitForStderr(pattern: RegExp): Promise<void>
  readonly done: Promise<RunResult>
  /** stderr printed so far. */
  stderr(): string
  kill(signal?: NodeJS.Signals): void
}

/** Starts `node <SOURCE_EXEC_ARGV> <script> ...args` and lets the test watch its stderr. */
export function startNode(script: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): RunningProcess {
  const child = spawn(process.execPath, [...SOURCE_EXEC_ARGV, script, ...args], {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = []
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d
  })
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d
    for (const w of waiters.splice(0)) {
      if (w.pattern.test(stderr)) w.resolve()
      else waiters.push(w)
    }
  })
  const done = new Promise<RunResult>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
  return {
    done,
    stderr: () => stderr,
    kill: (signal = 'SIGTERM') => {
      child.kill(signal)
    },
    waitForStderr: (pattern) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(stderr)) return resolve()
        waiters.push({ pattern, resolve })
        void done.then((r) => reject(new Error(`exited (${String(r.code)}) before printing ${String(pattern)}: ${r.stderr}`)))
      }),
  }
}
