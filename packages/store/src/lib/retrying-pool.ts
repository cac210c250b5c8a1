import pg from 'pg'

/** How long work waits for the server to come back (a restart, a fail-over) before its error is the caller's, ms. */
export const DEFAULT_RETRY_FOR_MS = 15_000

// Socket errors of a server that is away (restarting, or its name not resolvable for a moment
// inside a container network), and PostgreSQL's own "not now" codes: admin_shutdown,
// crash_shutdown, cannot_connect_now, and the connection_exception class.
const AWAY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03'])

/** Whether `err` says the server is away (rather than that the statement is wrong). */
export function isServerAway(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string' && (AWAY_CODES.has(code) || code.startsWith('08'))) return true
  const message = err instanceof Error ? err.message : ''
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message)
}

/**
 * Whether a statement that failed with `err` certainly did not take effect,
 * so running it again writes nothing twice: the server refused or ended the
 * session with an error it sent (57P01..57P03: the statement was aborted),
 * or the connection was never made. A connection that merely dropped
 * ("Connection terminated unexpectedly") leaves the outcome unknown.
 */
function certainlyNotApplied(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && AWAY_CODES.has(code)
}

const READ_ONLY = /^\s*(SELECT|WITH\s[\s\S]*\bSELECT\b(?![\s\S]*\b(INSERT|UPDATE|DELETE)\b))/i

/**
 * Runs `attempt` again while the server is away, with jittered exponential
 * back-off (100 ms doubling to 2 s), until `retryForMs` has passed; `again`
 * decides whether a failure may be retried at all.
 */
export async function whileServerAway<T>(retryForMs: number, attempt: () => Promise<T>, again: (err: unknown) => boolean): Promise<T> {
  const deadline = Date.now() + retryForMs
  for (let n = 0; ; n++) {
    try {
      return await attempt()
    } catch (err) {
      const wait = Math.random() * Math.min(2000, 100 * 2 ** n)
      if (!again(err) || Date.now() + wait >= deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }
}

/**
 * A pg Pool that rides through a server restart: getting a connection is
 * retried while the server is away, and so is a statement run on the pool
 * when it certainly did not take effect (or only reads). An idle client the
 * server ended is dropped by the pool on its `error` event and never reused.
 * Work still failing after `retryForMs` rejects with the server's error.
 */
export class RetryingPool extends pg.Pool {
  constructor(config: pg.PoolConfig, private readonly retryForMs = DEFAULT_RETRY_FOR_MS) {
    super(config)
    // An idle client's error (server restart) must not crash the process; the pool replaces it.
    this.on('error', () => {})
    // Nor must a checked-out client's: the pool listens only to idle ones, and the server ending a
    // connection between two of its statements (a restart's fast shutdown) reaches pg as an
    // 'error' on the client. Its next statement fails as the server going away, and is retried.
    this.on('connect', (client) => client.on('error', () => {}))
  }

  /** A connection, waiting up to `retryForMs` for the server to accept one. */
  connectWhenUp(): Promise<pg.PoolClient> {
    return whileServerAway(this.retryForMs, () => this.connect(), isServerAway)
  }

  /** One statement on a pooled connection; see the class comment for when it is retried. */
  queryWhenUp<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    const readOnly = READ_ONLY.test(text)
    return whileServerAway(this.retryForMs, async () => {
      const client = await this.connectWhenUp()
      try {
        const result = await client.query<R>(text, values)
        client.release()
        return result
      } catch (err) {
        // a connection the server ended goes; one whose statement merely failed goes back
        client.release(isServerAway(err) ? (err as Error) : undefined)
        throw err
      }
    }, (err) => isServerAway(err) && (readOnly || certainlyNotApplied(err)))
  }
}
