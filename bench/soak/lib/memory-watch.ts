import type { AppProcess, MemorySample } from './app-process.js'
import type { Monitor } from './monitor.js'
import { median } from '../../lib/broker-token-fixture.js'
import { mib } from './stats.js'

/**
 * What "flat" means: after warm-up, a process's heap (after a full GC), RSS
 * and open file descriptors may not exceed their level just after warm-up by
 * more than this, for `SUSTAINED` samples in a row. A leak of a few hundred
 * bytes per renewal or CONNECT exceeds it within minutes at the soak's rates.
 */
export const FLAT = {
  /** Heap after GC: +20 % and 8 MiB. */
  heap: { ratio: 1.2, plus: 8 * 1048576 },
  /** RSS: +25 % and 32 MiB (the allocator keeps what a burst took, and a storm is a burst). */
  rss: { ratio: 1.25, plus: 32 * 1048576 },
  /** File descriptors: +10 % and 16. */
  fds: { ratio: 1.1, plus: 16 },
  /** Time after a process said it was ready before its level is taken, ms. */
  warmupMs: 60_000,
  /** Samples taken for the level (their median). */
  baselineSamples: 3,
  /** Consecutive samples over the limit that make a breach (one can be a burst in flight). */
  sustained: 3,
} as const

interface Life {
  readonly pid: number
  readonly samples: MemorySample[]
  baseline: { heapUsed: number; rss: number; fds: number } | undefined
  over: number
}

export interface MemoryFigures {
  readonly name: string
  /** First sample of the run, and last, of whichever process was running then. */
  readonly start: MemorySample | undefined
  readonly end: MemorySample | undefined
  /** Level after warm-up of the last process, and its growth since, at the end. */
  readonly baseline: { heapUsed: number; rss: number; fds: number } | undefined
}

/**
 * Samples every app's memory and descriptors every `everyMs` and checks each
 * process (each start is a new life) against `FLAT`. Sampling pauses while
 * `paused()` says so (a process is being restarted).
 */
export function watchMemory(
  apps: readonly AppProcess[],
  monitor: Monitor,
  everyMs: number,
  steady: () => boolean,
): { figures(): MemoryFigures[]; stop(): void } {
  const lives = new Map<string, Life[]>()
  const first = new Map<string, MemorySample>()

  const check = (app: AppProcess, life: Life): void => {
    const s = life.samples.at(-1)!
    if (!life.baseline) {
      const settled = life.samples.filter((x) => x.at >= app.readyAt + FLAT.warmupMs)
      if (settled.length < FLAT.baselineSamples || !steady()) return
      const base = settled.slice(0, FLAT.baselineSamples)
      life.baseline = { heapUsed: median(base.map((x) => x.heapUsed)), rss: median(base.map((x) => x.rss)), fds: median(base.map((x) => x.fds)) }
      return
    }
    const b = life.baseline
    const limits = {
      heapUsed: b.heapUsed * FLAT.heap.ratio + FLAT.heap.plus,
      rss: b.rss * FLAT.rss.ratio + FLAT.rss.plus,
      fds: b.fds * FLAT.fds.ratio + FLAT.fds.plus,
    }
    const over = (['heapUsed', 'rss', 'fds'] as const).filter((k) => s[k] > limits[k])
    life.over = over.length > 0 ? life.over + 1 : 0
    if (life.over >= FLAT.sustained) {
      const show = (k: 'heapUsed' | 'rss' | 'fds'): string =>
        k === 'fds' ? `fds ${b.fds} -> ${s.fds} (limit ${Math.floor(limits.fds)})` : `${k} ${mib(b[k])} -> ${mib(s[k])} MiB (limit ${mib(limits[k])})`
      monitor.fail(
        'memory-growth',
        `${app.name} (pid ${life.pid}) grew past its level after warm-up for ${FLAT.sustained} samples in a row: ${over.map(show).join(', ')}`,
      )
    }
  }

  const sample = async (): Promise<void> => {
    await Promise.all(
      apps.map(async (app) => {
        const pid = app.pid
        if (pid === undefined) return
        const s = await app.memory().catch(() => undefined)
        if (!s || app.pid !== pid) return
        if (!first.has(app.name)) first.set(app.name, s)
        const list = lives.get(app.name) ?? []
        lives.set(app.name, list)
        let life = list.at(-1)
        if (life?.pid !== pid) list.push((life = { pid, samples: [], baseline: undefined, over: 0 }))
        life.samples.push(s)
        check(app, life)
      }),
    )
  }

  let running: Promise<void> = Promise.resolve()
  const timer = setInterval(() => {
    running = running.then(sample)
  }, everyMs)
  void sample()
  return {
    figures: () =>
      apps.map((app) => {
        const last = lives.get(app.name)?.at(-1)
        return { name: app.name, start: first.get(app.name), end: last?.samples.at(-1), baseline: last?.baseline }
      }),
    stop: () => clearInterval(timer),
  }
}
