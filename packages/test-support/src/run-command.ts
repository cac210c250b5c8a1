import { spawn } from 'node:child_process'

export interface CommandRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunCommandOptions {
  /** The whole environment of the command. Default: this process's. */
  readonly env?: NodeJS.ProcessEnv | undefined
  readonly cwd?: string | undefined
  /** Written to its stdin, which is then closed. Default: nothing. */
  readonly input?: string | undefined
  /** Killed (SIGTERM) after this long. Default: never. */
  readonly timeoutMs?: number | undefined
}

/** Runs a command to completion, collecting its output (asynchronously, so the test's own timeout still applies). */
export function runCommand(command: string, args: readonly string[], options: RunCommandOptions = {}): Promise<CommandRun> {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  // A command may exit without reading its input (tar, true): the pipe is gone and the write fails with
  // EPIPE. That is not the command failing (its exit code says how it went), so it is not thrown at the test run.
  child.stdin.on('error', () => {})
  child.stdin.end(options.input ?? '')
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}
