import { Agent, request } from 'node:http'
import { percentile } from './lib/broker-token-fixture.js'

/** One closed-loop run: every latency (ms), the errors and the wall time. */
export interface LoadRun {
  readonly latencies: number[]
  /** Answers other than 200, by status. */
  readonly statuses: Readonly<Record<string, number>>
  /** Requests that got no answer (connection refused or reset, ...), by error code. */
  readonly transport: Readonly<Record<string, number>>
  readonly seconds: number
}

export interface LoadResult {
  readonly requests: number
  /** Every failed request: non-200 answers plus transport errors. */
  readonly errors: number
  /** Non-200 answers by status, transport errors by code (empty when all went well). */
  readonly errorKinds: Readonly<Record<string, number>>
  readonly seconds: number
  readonly rps: number
  /** Milliseconds. */
  readonly p50: number
  readonly p99: number
}

export interface LoadOptions {
  readonly url: string
  /** Request bodies (form-encoded), used round-robin. */
  readonly bodies: readonly string[]
  readonly concurrency: number
  readonly durationMs: number
}

/**
 * Closed-loop HTTP load: `concurrency` keep-alive connections, each sending
 * POSTs back to back for `durationMs`. Non-200 answers and requests that get
 * no answer at all are counted, never thrown: a failing server shows up in
 * the figures instead of ending the run. Only successful requests give
 * latencies and throughput.
 */
export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency })
  const target = new URL(options.url)
  const latencies: number[] = []
  const statuses: Record<string, number> = {}
  const transport: Record<string, number> = {}
  let next = 0
  const started = performance.now()
  const deadline = started + options.durationMs
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const body = options.bodies[next++ % options.bodies.length]!
      const t0 = performance.now()
      const outcome = await post(agent, target, body)
      if (outcome === 200) latencies.push(performance.now() - t0)
      else if (typeof outcome === 'number') statuses[outcome] = (statuses[outcome] ?? 0) + 1
      else transport[outcome] = (transport[outcome] ?? 0) + 1
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  const seconds = (performance.now() - started) / 1000
  agent.destroy()
  return { latencies, statuses, transport, seconds }
}

/** Throughput and latency percentiles over several runs, and every error. */
export function summarize(runs: readonly LoadRun[]): LoadResult {
  const latencies = runs.flatMap((r) => r.latencies)
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0)
  const errorKinds: Record<string, number> = {}
  for (const r of runs) {
    for (const [status, n] of Object.entries(r.statuses)) errorKinds[`HTTP ${status}`] = (errorKinds[`HTTP ${status}`] ?? 0) + n
    for (const [code, n] of Object.entries(r.transport)) errorKinds[code] = (errorKinds[code] ?? 0) + n
  }
  const errors = Object.values(errorKinds).reduce((sum, n) => sum + n, 0)
  const at = (p: number): number => round(latencies.length === 0 ? 0 : percentile(latencies, p))
  return {
    requests: latencies.length,
    errors,
    errorKinds,
    seconds: round(seconds),
    rps: round(latencies.length / seconds),
    p50: at(50),
    p99: at(99),
  }
}

/** The answer's status, or the transport error's code when there was no answer. */
function post(agent: Agent, url: URL, body: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
        res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'response error'))
      },
    )
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
    req.end(body)
  })
}

const round = (n: number): number => Math.round(n * 100) / 100
