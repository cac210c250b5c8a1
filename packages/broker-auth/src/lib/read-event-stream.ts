import { createSseParser } from './sse-parser.js'
import type { SseEvent } from './sse-parser.js'

/**
 * Reads a `text/event-stream` body and yields the events of each chunk.
 * `onIdle` runs when no byte (not even a keepalive comment) arrived for
 * `idleTimeoutMs`; it should abort the request, which ends the loop.
 */
export async function* readEventStream(
  body: ReadableStream<Uint8Array>,
  idleTimeoutMs: number,
  onIdle: () => void,
): AsyncGenerator<SseEvent[]> {
  const parser = createSseParser()
  const decoder = new TextDecoder()
  const reader = body.getReader()
  let timer = setTimeout(onIdle, idleTimeoutMs)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      clearTimeout(timer)
      if (done) return
      timer = setTimeout(onIdle, idleTimeoutMs)
      const events = parser.push(decoder.decode(value, { stream: true }))
      if (events.length > 0) yield events
    }
  } finally {
    clearTimeout(timer)
    reader.cancel().catch(() => {})
  }
}
