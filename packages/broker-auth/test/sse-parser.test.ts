import { describe, expect, it } from 'vitest'
import { createSseParser } from '../src/lib/sse-parser.js'

describe('text/event-stream parsing', () => {
  it('dispatches on a blank line, with id, event and multi-line data', () => {
    const p = createSseParser()
    expect(p.push('id: 7\nevent: revoke\ndata: {"jti":\ndata: "a"}\n\n')).toEqual([{ id: '7', event: 'revoke', data: '{"jti":\n"a"}' }])
  })

  it('ignores comments (keepalives) and events without data; event defaults to message', () => {
    const p = createSseParser()
    expect(p.push(': keepalive\n\nevent: x\n\ndata: hi\n\n')).toEqual([{ id: undefined, event: 'message', data: 'hi' }])
  })

  it('handles CRLF and CR line ends, also split across chunks, and a leading BOM', () => {
    const p = createSseParser()
    const chunks = ['\ufeffid: 1\r', '\nevent: revoke\r\ndata: a\r', '\r', 'id: 2\rdata: b\r\r']
    const events = chunks.flatMap((c) => p.push(c))
    expect(events.map((e) => [e.id, e.event, e.data])).toEqual([
      ['1', 'revoke', 'a'],
      ['2', 'message', 'b'],
    ])
  })

  it('keeps the last event id across events and ignores ids containing NUL', () => {
    const p = createSseParser()
    expect(p.push('id: 3\ndata: a\n\ndata: b\n\nid: 4\u0000\ndata: c\n\n').map((e) => e.id)).toEqual(['3', '3', '3'])
  })

  it('keeps a partial line until its end arrives', () => {
    const p = createSseParser()
    expect(p.push('data: hel')).toEqual([])
    expect(p.push('lo\n')).toEqual([])
    expect(p.push('\n')).toEqual([{ id: undefined, event: 'message', data: 'hello' }])
  })
})
