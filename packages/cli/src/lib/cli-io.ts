import type { CliEnv } from '../cli-env.js'

/** Where a CLI run reads and writes: data to stdout, people-facing text and errors to stderr. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean }
  readonly env: CliEnv
}

/** Writes one line. */
export function writeLine(stream: NodeJS.WritableStream, text: string): void {
  stream.write(`${text}\n`)
}

/** Pretty JSON (2-space), one trailing newline. */
export function writeJson(stream: NodeJS.WritableStream, value: unknown): void {
  stream.write(`${JSON.stringify(value, null, 2)}\n`)
}
