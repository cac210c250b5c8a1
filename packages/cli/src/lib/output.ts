import type { Command } from 'commander'
import type { CliIo } from './cli-io.js'

/**
 * How a command prints its result. On a terminal: tables and sentences for
 * people, times in local time. With --json, or when stdout is not a terminal
 * (a pipe, a file, `$(...)`): JSON, times as epoch seconds, the shapes
 * scripts have always read, so a script never has to ask for --json to stay
 * stable and a person never has to read JSON.
 */
export function wantsJson(opts: { json?: boolean }, io: CliIo): boolean {
  return opts.json === true || !isTerminal(io.stdout)
}

/** True when `stream` is a terminal (a TTY). */
export function isTerminal(stream: NodeJS.WritableStream | NodeJS.ReadableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true
}

/** Adds `--json` to a command: the same output whether stdout is a terminal or not. */
export function addJsonOption(cmd: Command, what = 'print JSON (epoch seconds), as when stdout is not a terminal'): Command {
  return cmd.option('--json', what)
}

/** A cell: undefined and null print as "-". */
export type Cell = string | number | boolean | null | undefined

/** Columns padded to their widest cell, two spaces apart, a header line first; no trailing spaces. */
export function writeTable(stream: NodeJS.WritableStream, headers: readonly string[], rows: ReadonlyArray<readonly Cell[]>): void {
  const text = [headers, ...rows.map((row) => row.map(cellText))]
  const widths = headers.map((_, i) => Math.max(...text.map((row) => (row[i] ?? '').length)))
  for (const row of text) stream.write(`${row.map((c, i) => (c ?? '').padEnd(i === row.length - 1 ? 0 : widths[i]!)).join('  ')}\n`)
}

function cellText(cell: Cell): string {
  return cell === undefined || cell === null || cell === '' ? '-' : String(cell)
}

/** Epoch seconds as local time with its offset, `2026-12-01 18:27:05 +01:00`; undefined for none (the table prints "-"). */
export function localTime(epochSeconds: number | null | undefined): string | undefined {
  if (epochSeconds === undefined || epochSeconds === null || !Number.isFinite(epochSeconds)) return undefined
  const d = new Date(epochSeconds * 1000)
  const p = (n: number): string => String(n).padStart(2, '0')
  const offset = -d.getTimezoneOffset()
  const zone = `${offset < 0 ? '-' : '+'}${p(Math.floor(Math.abs(offset) / 60))}:${p(Math.abs(offset) % 60)}`
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${zone}`
}
