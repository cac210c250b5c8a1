import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * The event totals of a callgrind dump, by event name (`Ir`: instructions;
 * with `--cache-sim=yes` also `I1mr`, `D1mr`, `D1mw`: first-level misses,
 * and `ILmr`, `DLmr`, `DLmw`: last-level misses), from its `events:` and
 * `summary:` (or `totals:`) lines.
 */
export function callgrindTotals(text: string): Record<string, number> {
  const events = /^events: *(.+)$/m.exec(text)?.[1]?.trim().split(/\s+/)
  const totals = /^(?:summary|totals): *(.+)$/m.exec(text)?.[1]?.trim().split(/\s+/).map(Number)
  if (!events || !totals) throw new Error('not a callgrind dump: no events or summary line')
  return Object.fromEntries(events.map((event, i) => [event, totals[i] ?? 0]))
}

/**
 * Cachegrind's cycle estimate from a dump's totals (see its manual,
 * "Acting on Cachegrind's information"): one per instruction, 10 per
 * first-level miss, 100 per last-level miss. A model (no branch
 * predictor, no prefetcher, one simple cache hierarchy), not a clock.
 */
export function estimatedCycles(t: Readonly<Record<string, number>>): number {
  const n = (event: string): number => t[event] ?? 0
  return n('Ir') + 10 * (n('I1mr') + n('D1mr') + n('D1mw')) + 100 * (n('ILmr') + n('DLmr') + n('DLmw'))
}

/** Throws, saying what to install, unless valgrind (with callgrind_control) can be run. */
export function requireValgrind(): void {
  for (const tool of ['valgrind', 'callgrind_control']) {
    const probe = spawnSync(tool, ['--version'], { stdio: 'ignore' })
    if (probe.error || probe.status !== 0) throw new Error(`${tool} is needed and was not found: on Debian, apt-get install valgrind`)
  }
}

/** Callgrind's options for a process whose counting a bench switches on and dumps itself (`callgrindControl`). */
export function callgrindArgs(outFile: string): string[] {
  // --smc-check: V8 writes and rewrites machine code on the heap; valgrind must notice it
  return ['-q', '--tool=callgrind', '--instr-atstart=no', '--cache-sim=yes', '--smc-check=all-non-file', `--callgrind-out-file=${outFile}`]
}

/**
 * Tells the callgrind process `pid` to start counting (`on`),
 * zero its counters (`zero`) or write its counts (`dump`, to
 * `<outFile>.<n>`, the n-th dump of that process). A dump resolves with
 * its totals once the file is complete.
 */
export async function callgrindControl(pid: number, what: 'on' | 'zero'): Promise<void>
export async function callgrindControl(pid: number, what: 'dump', outFile: string, n: number): Promise<Record<string, number>>
export async function callgrindControl(pid: number, what: 'on' | 'zero' | 'dump', outFile?: string, n?: number): Promise<void | Record<string, number>> {
  const flag = { on: ['-i', 'on'], zero: ['-z'], dump: ['-d'] }[what]
  execFileSync('callgrind_control', [...flag, String(pid)], { stdio: 'ignore' })
  if (what !== 'dump') return
  const file = `${outFile}.${n}`
  for (let waited = 0; waited < 120_000; waited += 200) {
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8')
      if (/^(?:summary|totals):/m.test(text)) return callgrindTotals(text)
    }
    await sleep(200)
  }
  throw new Error(`callgrind wrote no dump ${file} within 120 s`)
}
