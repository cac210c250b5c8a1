import { PassThrough, Readable } from 'node:stream'
import type { CliEnv } from '@mqtt-oidc/cli'
import { runCli } from '@mqtt-oidc/cli'

/** Runs `mqtt-oidc <args>` in this process with `env` and `stdin` piped in (not a terminal); returns the exit code and output. */
export async function runCliInProcess(args: string[], env: CliEnv, stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString()
  })
  const code = await runCli(args, { stdout, stderr, stdin: Readable.from([stdin]), env })
  return { code, stdout: out, stderr: err }
}
