import { CliError } from './cli-error.js'
import type { CliIo } from './cli-io.js'
import { isTerminal } from './output.js'

/**
 * Asks before a command that destroys something. With `--yes` it goes ahead.
 * At a terminal it asks `<question> [y/N]` and goes ahead on y/yes only.
 * Anywhere else (a script, a pipe) it refuses without --yes: a script that
 * deletes must say so. Either refusal ends the command with nothing changed.
 */
export async function confirm(io: CliIo, question: string, opts: { yes?: boolean }, command: string): Promise<void> {
  if (opts.yes === true) return
  if (!isTerminal(io.stdin) || !isTerminal(io.stderr)) {
    throw new CliError(`${command} changes things that cannot be undone: add --yes to confirm (not at a terminal, so not asked); nothing was changed`)
  }
  io.stderr.write(`${question} [y/N] `)
  const answer = (await readLine(io.stdin)).trim().toLowerCase()
  if (answer !== 'y' && answer !== 'yes') throw new CliError('not confirmed; nothing was changed')
}

/** One line from a terminal in its normal (cooked) mode: the terminal echoes and edits it. */
function readLine(stdin: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    const onData = (chunk: Buffer | string): void => {
      text += chunk.toString()
      const end = text.search(/[\r\n]/)
      if (end >= 0) finish(text.slice(0, end))
    }
    const onEnd = (): void => finish(text)
    const finish = (line: string): void => {
      stdin.off('data', onData)
      stdin.off('end', onEnd)
      stdin.pause()
      resolve(line)
    }
    stdin.on('data', onData)
    stdin.once('end', onEnd)
    stdin.resume()
  })
}
