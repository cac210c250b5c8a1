import { createSseParser } from './sse-parser.js'
import type { SseEvent } from './sse-parser.js'

/**
 * Reads a `text/event-stream` body and yields the events of each chunk it
 * receives, an empty list for a chunk that completed none (a keepalive
 * comment): every chunk is contact with the feed, events or not.
 * `onIdle` runs when no byte arrived for `idleTimeoutMs`; it should abort
 * the request, which ends the loop.
 */
export async function* readEventStream(body: ReadableStream<Uint8Array>, idleTimeoutMs: number, onIdle: () => void): AsyncGenerator<SseEvent[]> {
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
      yield parser.push(decoder.decode(value, { stream: true }))
    }
  } finally {
    clearTimeout(timer)
    reader.cancel().catch(() => {})
  }
}
