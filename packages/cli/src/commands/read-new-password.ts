import { CliError } from '../lib/cli-error.js'
import type { CliIo } from '../lib/cli-io.js'

/**
 * A new password, never from the command line (it would land in shell
 * history and `ps`): typed twice at a terminal without echo, or the first
 * line of stdin when stdin is a pipe (`echo "$PW" | mqtt-oidc users add bob`).
 */
export async function readNewPassword(io: CliIo, what: string): Promise<string> {
  if (!io.stdin.isTTY) {
    const line = (await readAll(io.stdin)).split(/\r?\n/)[0] ?? ''
    if (line === '') throw new CliError('no password on stdin: pipe one line, or run at a terminal to be prompted')
    return line
  }
  const first = await promptHidden(io, `New password for ${what}: `)
  const second = await promptHidden(io, 'Repeat the password: ')
  if (first !== second) throw new CliError('the passwords do not match; nothing was changed')
  return first
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = ''
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
  return text
}

type RawStdin = NodeJS.ReadableStream & { setRawMode?: (raw: boolean) => unknown }

/** Reads one line from a terminal in raw mode, echoing nothing. Ctrl-C aborts. */
function promptHidden(io: CliIo, prompt: string): Promise<string> {
  const stdin = io.stdin as RawStdin
  io.stderr.write(prompt)
  return new Promise((resolve, reject) => {
    let value = ''
    const finish = (err?: Error): void => {
      stdin.removeListener('data', onData)
      stdin.setRawMode?.(false)
      stdin.pause()
      io.stderr.write('\n')
      if (err) reject(err)
      else resolve(value)
    }
    const onData = (chunk: Buffer | string): void => {
      for (const char of chunk.toString()) {
        if (char === '\r' || char === '\n') return finish()
        if (char === '\u0003') return finish(new CliError('cancelled'))
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1)
        else if (char >= ' ') value += char
      }
    }
    stdin.setRawMode?.(true)
    stdin.resume()
    stdin.on('data', onData)
  })
}
