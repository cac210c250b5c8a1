/**
 * oidc-agent (Debian's oidc-agent-cli: the usual OIDC token tool on Linux
 * servers, nobody here wrote it), run the way a person on a server runs it,
 * but non-interactively: its own HOME and socket, an agent process in the
 * foreground, `oidc-gen` with --prompt none / --pw-cmd / --flow, then
 * `oidc-token`. Missing binaries make the test FAIL.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { until } from '@mqtt-oidc/test-support/until'

const TOOLS = ['/usr/bin/oidc-agent', '/usr/bin/oidc-gen', '/usr/bin/oidc-token']

export interface ToolProcess {
  /** Resolves with the first match of `pattern` in stdout + stderr; rejects if the process exits first. */
  match(pattern: RegExp): Promise<RegExpExecArray>
  readonly exited: Promise<{ code: number | null; stdout: string; stderr: string }>
}

export interface TestOidcAgent {
  /** Runs `oidc-gen <args>` against the agent. */
  gen(args: readonly string[]): ToolProcess
  /** Runs `oidc-token <args>`; resolves with its stdout (trimmed) or rejects with its output. */
  token(args: readonly string[]): Promise<string>
  /** The agent's own log (for failure messages). */
  log(): string
  close(): Promise<void>
}

export async function startOidcAgent(): Promise<TestOidcAgent> {
  for (const tool of TOOLS)
    if (!existsSync(tool)) throw new Error(`${tool} not found: apt-get install -y oidc-agent-cli (scripts/ensure-test-deps.mjs does this)`)
  const dir = mkdtempSync(join(tmpdir(), 'oidc-agent-'))
  const home = join(dir, 'home')
  mkdirSync(home, { mode: 0o700 })
  const socket = join(dir, 'agent.sock')
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TMPDIR: dir, OIDC_SOCK: socket }
  // --always-allow-idtoken: oidc-token --id-token without a confirmation dialog (there is no desktop here).
  const agent = spawn('/usr/bin/oidc-agent', ['--console', '--socket-path', socket, '--always-allow-idtoken', '--no-autoreauthenticate', '--log-stderr'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let agentLog = ''
  agent.stdout.setEncoding('utf8').on('data', (d: string) => {
    agentLog += d
  })
  agent.stderr.setEncoding('utf8').on('data', (d: string) => {
    agentLog += d
  })
  let agentExited = false
  agent.once('exit', () => {
    agentExited = true
  })
  const children: ChildProcess[] = []
  const stopAgent = async (): Promise<void> => {
    if (agentExited || agent.pid === undefined) return
    const gone = new Promise((resolve) => agent.once('exit', resolve))
    // The agent forks helpers (its redirect web server) into its process group,
    // and they outlive a SIGTERM: the group goes once the agent has shut down.
    process.kill(-agent.pid, 'SIGTERM')
    await gone
    try {
      process.kill(-agent.pid, 'SIGKILL')
    } catch {
      // the group is already empty
    }
  }
  try {
    await until(async () => {
      if (agentExited) throw new Error(`oidc-agent exited at start: ${agentLog}`)
      return existsSync(socket)
    }, 10_000)
  } catch (err) {
    await stopAgent()
    rmSync(dir, { recursive: true, force: true })
    throw err
  }

  const run = (tool: string, args: readonly string[]): ToolProcess => {
    const child = spawn(tool, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    let stdout = ''
    let stderr = ''
    const waiters: Array<{ pattern: RegExp; resolve: (m: RegExpExecArray) => void }> = []
    const check = (): void => {
      for (const w of waiters.splice(0)) {
        const m = w.pattern.exec(`${stdout}\n${stderr}`)
        if (m) w.resolve(m)
        else waiters.push(w)
      }
    }
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      check()
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      check()
    })
    const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (code) => resolve({ code, stdout, stderr }))
    })
    return {
      exited,
      match: (pattern) =>
        new Promise((resolve, reject) => {
          const m = pattern.exec(`${stdout}\n${stderr}`)
          if (m) return resolve(m)
          waiters.push({ pattern, resolve })
          void exited.then((r) => reject(new Error(`${tool} exited (${String(r.code)}) before printing ${String(pattern)}: ${r.stdout}\n${r.stderr}`)))
        }),
    }
  }

  return {
    gen: (args) => run('/usr/bin/oidc-gen', args),
    async token(args) {
      const r = await run('/usr/bin/oidc-token', args).exited
      if (r.code !== 0) throw new Error(`oidc-token ${args.join(' ')} failed (${String(r.code)}): ${r.stdout}${r.stderr}`)
      return r.stdout.trim()
    },
    log: () => agentLog,
    async close() {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await stopAgent()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
