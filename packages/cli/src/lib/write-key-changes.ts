import type { CliIo } from './cli-io.js'
import { localTime, writeTable } from './output.js'

/** A key a rotation touched: `new` (published now, signing from `signsFrom`) or `retiring` (stops signing at `retires`). */
export interface KeyChange {
  readonly kid: string
  readonly alg: string | undefined
  readonly change: 'new' | 'retiring'
  readonly signsFrom: number | undefined
  readonly retires?: number | undefined
}

/**
 * What `keys rotate` and `idp keys rotate` did, for a person at a terminal:
 * each new key and each key it retires, with when it signs and retires, in
 * the columns `keys list` uses for the same dates.
 */
export function writeKeyChanges(io: CliIo, changes: readonly KeyChange[]): void {
  writeTable(
    io.stdout,
    ['KID', 'ALG', 'CHANGE', 'SIGNS FROM', 'RETIRES'],
    changes.map((k) => [k.kid, k.alg, k.change, localTime(k.signsFrom), localTime(k.retires)]),
  )
}
