import { Agent, request } from 'node:http'

/** One closed-loop run: every latency (ms), the error count and the wall time. */
export interface LoadRun {
  readonly latencies: number[]
  readonly errors: number
  readonly seconds: number
}

export interface LoadResult {
  readonly requests: number
  readonly errors: number
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
 * POSTs back to back for `durationMs`. Non-200 answers count as errors.
 */
export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency })
  const target = new URL(options.url)
  const latencies: number[] = []
  let errors = 0
  let next = 0
  const started = performance.now()
  const deadline = started + options.durationMs
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const body = options.bodies[next++ % options.bodies.length]!
      const t0 = performance.now()
      const status = await post(agent, target, body)
      latencies.push(performance.now() - t0)
      if (status !== 200) errors++
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  const seconds = (performance.now() - started) / 1000
  agent.destroy()
  return { latencies, errors, seconds }
}

/** Throughput and latency percentiles over several runs. */
export function summarize(runs: readonly LoadRun[]): LoadResult {
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b)
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0)
  const errors = runs.reduce((sum, r) => sum + r.errors, 0)
  const at = (q: number): number => round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0)
  return { requests: latencies.length, errors, seconds: round(seconds), rps: round(latencies.length / seconds), p50: at(0.5), p99: at(0.99) }
}

function post(agent: Agent, url: URL, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST', agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const round = (n: number): number => Math.round(n * 100) / 100
