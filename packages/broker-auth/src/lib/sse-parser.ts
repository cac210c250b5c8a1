/** One dispatched Server-Sent Event (WHATWG HTML §9.2.6). */
export interface SseEvent {
  /** The `event` field; `message` when absent. */
  readonly event: string
  readonly data: string
  /** The last event id seen on this stream so far (persists across events), if any. */
  readonly id: string | undefined
}

export interface SseParser {
  /** Feeds decoded text; returns the events completed by it, in order. */
  push(text: string): SseEvent[]
}

/**
 * A by-hand `text/event-stream` parser: lines end in CRLF, LF or CR (also
 * split across chunks), `:` lines are comments (keepalives), a blank line
 * dispatches, an event without data is dropped, `id` with NUL is ignored.
 * `retry` is ignored: the follower's own backoff decides when to reconnect.
 */
export function createSseParser(): SseParser {
  let buffer = ''
  let skipLf = false
  let first = true
  let event = ''
  let data: string[] = []
  let id: string | undefined

  function line(text: string, out: SseEvent[]): void {
    if (text === '') {
      if (data.length > 0) out.push({ event: event || 'message', data: data.join('\n'), id })
      event = ''
      data = []
      return
    }
    if (text.startsWith(':')) return
    const colon = text.indexOf(':')
    const field = colon === -1 ? text : text.slice(0, colon)
    let value = colon === -1 ? '' : text.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') event = value
    else if (field === 'data') data.push(value)
    else if (field === 'id' && !value.includes('\u0000')) id = value
  }

  function push(text: string): SseEvent[] {
    if (first && text.length > 0) {
      first = false
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    }
    if (skipLf && text.startsWith('\n')) text = text.slice(1)
    skipLf = false
    buffer += text
    const out: SseEvent[] = []
    let start = 0
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i)
      if (c !== 10 && c !== 13) continue
      line(buffer.slice(start, i), out)
      if (c === 13) {
        if (i + 1 === buffer.length) skipLf = true
        else if (buffer.charCodeAt(i + 1) === 10) i++
      }
      start = i + 1
    }
    buffer = buffer.slice(start)
    return out
  }

  return { push }
}
