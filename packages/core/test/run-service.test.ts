import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { SOURCE_EXEC_ARGV } from '@mqtt-oidc/test-support/run-tsx'

const SERVICE = fileURLToPath(new URL('./fixtures/service.ts', import.meta.url))

interface Ended {
  code: number | null
  stdout: string
  stderr: string
}

/** The fixture as a real process; `signals` are sent once it printed `ready` (each after the previous one's effect, `closed <part>` or nothing). */
function run(env: Record<string, string>, signals: NodeJS.Signals[] = []): Promise<Ended> {
  const child = spawn(process.execPath, [...SOURCE_EXEC_ARGV, SERVICE], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  const pending = [...signals]
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    if (stdout.includes('ready\n') && pending.length > 0) {
      const signal = pending.shift()!
      child.kill(signal)
      // The second signal only once the first one's stop has begun.
      if (pending.length > 0) {
        const again = pending.shift()!
        const wait = setInterval(() => {
          if (stderr.includes('stopping')) {
            clearInterval(wait)
            child.kill(again)
          }
        }, 5)
      }
    }
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

describe('runService', () => {
  it('closes the parts on SIGTERM, the last added first, and exits 0', async () => {
    expect(await run({}, ['SIGTERM'])).toEqual({ code: 0, stdout: 'ready\nclosed listener\nclosed server\nclosed store\n', stderr: 'demo: stopping\n' })
  })

  it('closes every part when one fails to close, says which, and exits 1', async () => {
    const ended = await run({ FAIL: 'server' }, ['SIGINT'])
    expect(ended).toMatchObject({ code: 1, stdout: 'ready\nclosed listener\nclosed store\n' })
    expect(ended.stderr).toMatch(/^demo: stopping\ndemo: closing the server failed: server would not close\nError: server would not close\n/)
  })

  it('exits at once on a second signal while a part is still closing, with 128 + the signal number', async () => {
    const ended = await run({ SLOW: 'server' }, ['SIGINT', 'SIGINT'])
    expect(ended).toEqual({
      code: 130,
      stdout: 'ready\nclosed listener\n',
      stderr: 'demo: stopping\ndemo: SIGINT again: exiting without waiting for the rest to close\n',
    })
    expect((await run({ SLOW: 'listener' }, ['SIGTERM', 'SIGTERM'])).code).toBe(143)
  })

  it('refuses an invalid configuration with exit code 2 and one line per problem', async () => {
    expect(await run({ MODE: 'config' })).toEqual({
      code: 2,
      stdout: '',
      stderr: 'demo: invalid configuration: DEMO_PORT must be a whole number from 0 to 65535, got "eighty"\n',
    })
  })

  it('closes what had started when start-up fails, and exits 1 with one line for a failed system call', async () => {
    expect(await run({ MODE: 'fail' })).toEqual({
      code: 1,
      stdout: 'closed listener\nclosed server\nclosed store\n',
      stderr: 'demo: demo failed to start: listen EADDRINUSE: address already in use 127.0.0.1:4000\n',
    })
    const bug = await run({ MODE: 'bug' })
    expect(bug.code).toBe(1)
    expect(bug.stderr).toMatch(/^demo: demo failed to start: undefined is not a function\nTypeError: undefined is not a function\n {4}at /)
  })

  it('stops a start-up still under way on a signal, closing what it had started', async () => {
    expect(await run({ MODE: 'hang' }, ['SIGTERM'])).toEqual({
      code: 0,
      stdout: 'ready\nclosed listener\nclosed server\nclosed store\n',
      stderr: 'demo: stopping\n',
    })
  })

  // The soak once saw a broker node exit 0, silently, 1.6 s into its start-up: nothing held Node's event
  // loop while start-up waited, so Node ended the process as if its work were done, and a supervisor
  // takes exit 0 for a clean stop. A start-up under way keeps the process alive until it ends.
  it("keeps the process alive while start-up waits on nothing but unref'd timers", async () => {
    expect(await run({ MODE: 'unref-wait' })).toEqual({ code: 0, stdout: 'ready\n', stderr: '' })
  })
})
