import { createServer, type Server } from 'node:http'
import { handleHealthRequest, type HealthEndpoints } from './handle-health-request.js'

/**
 * An HTTP server (not yet listening: the app binds it) that answers only
 * the operations endpoints, `/healthz`, `/readyz` and `/metrics` (see
 * handleHealthRequest), and 404 to anything else: each app's metrics and
 * health port, kept apart from the port its users reach.
 *
 * @example const server = createHealthServer({ ready, metrics }); server.listen(9464, '127.0.0.1')
 */
export function createHealthServer(endpoints: HealthEndpoints): Server {
  return createServer((req, res) => {
    if (handleHealthRequest(req, res, endpoints)) return
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: /healthz, /readyz and /metrics are served here\n')
  })
}
