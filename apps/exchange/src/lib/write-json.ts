import type { ServerResponse } from 'node:http'

/** Ends `res` with `status` and `body` as JSON (UTF-8), keeping headers set before. */
export function writeJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.statusCode = status
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(text))
  res.end(text)
}
