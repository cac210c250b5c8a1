import { spawn } from 'node:child_process'

export interface ToolRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunningTool {
  /** Resolves once stdout has printed `text`; rejects if the process exits first. */
  printed(text: string): Promise<void>
  readonly exited: Promise<ToolRun>
}

/**
 * Runs a command nobody here wrote (mosquitto_pub/sub), line-buffered through
 * stdbuf so the test sees its output as it happens; killed after `timeoutMs`.
 */
export function runTool(command: string, args: readonly string[], timeoutMs = 15_000): RunningTool {
  const child = spawn('stdbuf', ['-oL', command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiters: Array<{ text: string; resolve: () => void; reject: (err: Error) => void }> = []
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    for (const w of waiters.filter((x) => stdout.includes(x.text))) {
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve()
    }
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const exited = new Promise<ToolRun>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      for (const w of waiters.splice(0)) w.reject(new Error(`${command} exited (${code}) before printing "${w.text}": ${stderr}`))
      resolve({ code, stdout, stderr })
    })
  })
  return {
    printed: (text) => (stdout.includes(text) ? Promise.resolve() : new Promise((resolve, reject) => waiters.push({ text, resolve, reject }))),
    exited,
  }
}
