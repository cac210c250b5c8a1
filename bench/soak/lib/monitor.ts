/** One broken invariant: what kind, and what happened, for a person to act on. */
export interface Breach {
  readonly invariant:
    | 'credential-refused'
    | 'reading-lost'
    | 'revocation-not-enforced'
    | 'memory-growth'
    | 'error-logged'
    | 'process-died'
    | 'fleet-not-back'
    | 'renewal-failed'
    | 'idle-client-cut'
    | 'key-rotation'
    | 'setup'
  readonly message: string
  /** Seconds since the run started. */
  readonly atS: number
}

/**
 * Where every invariant check reports. The first breach ends the run: it
 * aborts `signal`, which every wait of the schedule listens to, so the run
 * stops at once with that breach as its result. With `keepGoing` (to see
 * every fault a run finds, not only the first) breaches are recorded and the
 * run goes on.
 */
export class Monitor {
  readonly #abort = new AbortController()
  readonly startedAt = Date.now()
  readonly #breaches: Breach[] = []
  readonly #known = new Map<KnownFault, number>()

  constructor(
    private readonly print: (line: string) => void,
    private readonly keepGoing = false,
    private readonly knownFaults: readonly KnownFault[] = [],
  ) {}

  get signal(): AbortSignal {
    return this.#abort.signal
  }

  /** The first breach. */
  get breach(): Breach | undefined {
    return this.#breaches[0]
  }

  get breaches(): readonly Breach[] {
    return this.#breaches
  }

  /** Known faults this run hit, and how often. */
  get knownFaultsSeen(): ReadonlyArray<{ fault: KnownFault; times: number }> {
    return [...this.#known].map(([fault, times]) => ({ fault, times }))
  }

  /** Seconds since the run started. */
  elapsedS(): number {
    return Math.round((Date.now() - this.startedAt) / 100) / 10
  }

  #finished = false

  /** The run is over: what happens during the teardown is not checked. */
  finish(): void {
    this.#finished = true
  }

  fail(invariant: Breach['invariant'], message: string): void {
    if (this.#finished || this.signal.aborted) return
    const known = this.knownFaults.find((k) => k.invariant === invariant && k.match.test(message))
    if (known) {
      if (!this.#known.has(known)) this.print(`KNOWN FAULT (${known.why}), not failing this run: ${message.slice(0, 300)}`)
      this.#known.set(known, (this.#known.get(known) ?? 0) + 1)
      return
    }
    const breach: Breach = { invariant, message, atS: this.elapsedS() }
    this.#breaches.push(breach)
    this.print(`BREACH ${invariant} at +${breach.atS} s: ${message}`)
    if (!this.keepGoing) this.#abort.abort(new BreachError(breach))
  }

  /** A line of progress, with the run's clock. */
  note(line: string): void {
    this.print(`  [+${this.elapsedS().toFixed(0).padStart(4)} s] ${line}`)
  }

  /** Waits `ms`, or throws at the first breach. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.signal.aborted) return reject(this.signal.reason)
      const done = (): void => {
        this.signal.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = (): void => {
        clearTimeout(timer)
        reject(this.signal.reason)
      }
      const timer = setTimeout(done, ms)
      this.signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /**
   * Polls `check` every 100 ms until it holds; a breach throws, and so does
   * running out of `timeoutMs` (recorded as `invariant` with `what`; with
   * `keepGoing`, it returns then).
   */
  async until(check: () => boolean, timeoutMs: number, invariant: Breach['invariant'], what: () => string): Promise<number> {
    const start = Date.now()
    while (!check()) {
      if (Date.now() - start > timeoutMs) {
        this.fail(invariant, what())
        if (this.signal.aborted) throw this.signal.reason
        return Date.now() - start
      }
      await this.sleep(100)
    }
    return Date.now() - start
  }
}

/** A fault the run has found before and that is being fixed elsewhere: seen, reported, not a breach. */
export interface KnownFault {
  readonly invariant: Breach['invariant']
  /** Matches the breach message. */
  readonly match: RegExp
  /** What it is and where it is tracked. */
  readonly why: string
}

/** Thrown out of every wait once a breach has ended the run. */
export class BreachError extends Error {
  constructor(readonly breach: Breach) {
    super(`${breach.invariant}: ${breach.message}`)
    this.name = 'BreachError'
  }
}
