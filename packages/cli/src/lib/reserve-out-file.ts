import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { CliError } from './cli-error.js'

/** A file made before the secrets it will hold exist: `write` fills it once, `discard` removes it when they never came. */
export interface OutFile {
  readonly path: string
  write(content: string): void
  discard(): void
}

/**
 * Creates `path` empty, mode 0600 (its directory 0700 when made), before
 * anything is issued: a file that exists, or a directory that cannot be
 * written, is refused while nothing has changed yet, so tokens the server
 * shows only once never go missing between issuing and writing them, and
 * an earlier file of tokens is never overwritten.
 */
export function reserveOutFile(path: string): OutFile {
  let fd: number
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    fd = openSync(path, 'wx', 0o600)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw new CliError(`${path} exists: give --out a new file (its tokens would be lost); nothing was issued`)
    throw new CliError(`cannot create ${path} (${code ?? String(err)}); nothing was issued`)
  }
  return {
    path,
    write(content) {
      writeSync(fd, content)
      closeSync(fd)
    },
    discard() {
      closeSync(fd)
      rmSync(path, { force: true })
    },
  }
}
