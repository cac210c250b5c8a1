import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { startProgress } from '../src/lib/progress.js'

afterEach(() => { vi.useRealTimers() })

const capture = (isTTY: boolean): { stream: PassThrough & { isTTY?: boolean }; text: () => string } => {
  const stream = Object.assign(new PassThrough(), { isTTY })
  let text = ''
  stream.on('data', (d: Buffer) => { text += d.toString() })
  return { stream, text: () => text }
}

describe('startProgress (the device login spinner)', () => {
  it('redraws one line every second on a terminal with elapsed and remaining time, and clears it on stop', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] })
    const { stream, text } = capture(true)
    const progress = startProgress(stream, 'waiting for approval', 300)
    await vi.advanceTimersByTimeAsync(2_000)
    progress.stop()
    await new Promise((resolve) => setImmediate(resolve))
    expect(text()).toBe([
      '\r| waiting for approval 0s (expires in 5:00)  ',
      '\r/ waiting for approval 1s (expires in 4:59)  ',
      '\r- waiting for approval 2s (expires in 4:58)  ',
      '\r\x1b[K',
    ].join(''))
  })

  it('prints nothing on a pipe (scripts read stderr)', async () => {
    const { stream, text } = capture(false)
    startProgress(stream, 'waiting for approval', 300).stop()
    await new Promise((resolve) => setImmediate(resolve))
    expect(text()).toBe('')
  })
})
