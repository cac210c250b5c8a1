import type { IncomingMessage, ServerResponse } from 'node:http'
import { checkReadiness, type ReadinessCheck } from './check-readiness.js'

export interface HealthEndpoints {
  /** What `GET /readyz` checks. */
  readonly ready: Readonly<Record<string, ReadinessCheck>>
  /** `GET /metrics`: the Prometheus text exposition and its content type. Default: no /metrics here (404). */
  readonly metrics?: (() => Promise<{ readonly contentType: string; readonly body: string }>) | undefined
}

/**
 * Answers the operations endpoints every part serves, and returns true; for
 * any other request returns false and leaves it alone:
 *
 * - `GET /healthz`: liveness, `200 {"status":"ok"}` while the process serves
 *   requests at all (restart it when this fails);
 * - `GET /readyz`: readiness, `200 {"status":"ready","checks":{...}}` when
 *   every check passes, else `503 {"status":"not ready",...}` with each
 *   check's result (take it out of the load balancer meanwhile);
 * - `GET /metrics`: Prometheus metrics, when `metrics` is given.
 *
 * HEAD works as GET without a body. Answers are never cached.
 *
 * @example createServer((req, res) => handleHealthRequest(req, res, endpoints) || notFound(res))
 */
export function handleHealthRequest(req: IncomingMessage, res: ServerResponse, endpoints: HealthEndpoints): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false
  const path = (req.url ?? '').split('?')[0]
  const send = (status: number, contentType: string, body: string): void => {
    res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body)
  }
  const json = 'application/json; charset=utf-8'
  if (path === '/healthz') {
    send(200, json, JSON.stringify({ status: 'ok' }))
    return true
  }
  if (path === '/readyz') {
    void checkReadiness(endpoints.ready).then((readiness) => send(readiness.status === 'ready' ? 200 : 503, json, JSON.stringify(readiness)))
    return true
  }
  const { metrics } = endpoints
  if (path === '/metrics' && metrics) {
    metrics().then(
      ({ contentType, body }) => send(200, contentType, body),
      () => send(500, 'text/plain; charset=utf-8', 'metrics failed\n'),
    )
    return true
  }
  return false
}
