/**
 * A one-line "still waiting" indicator on a terminal: elapsed time and time
 * left, redrawn every second. On a pipe or file it prints nothing (scripts
 * read stderr; the prompt lines before it say what is going on).
 */
export function startProgress(stream: NodeJS.WritableStream & { isTTY?: boolean }, what: string, expiresIn: number): { stop(): void } {
  if (stream.isTTY !== true) return { stop() {} }
  const started = Date.now()
  const frames = ['|', '/', '-', '\\']
  let tick = 0
  const draw = (): void => {
    const elapsed = Math.floor((Date.now() - started) / 1000)
    const left = Math.max(0, expiresIn - elapsed)
    stream.write(`\r${frames[tick++ % frames.length]} ${what} ${elapsed}s (expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')})  `)
  }
  draw()
  const timer = setInterval(draw, 1000)
  timer.unref()
  return {
    stop() {
      clearInterval(timer)
      stream.write('\r\x1b[K')
    },
  }
}
