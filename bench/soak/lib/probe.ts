/**
 * Preloaded (`--import`) into every app process the soak starts, next to the
 * app's own entry point: answers `{ type: 'soak:memory' }` over the IPC
 * channel with the process's heap after a full GC (`--expose-gc`) and its
 * RSS. It adds nothing else, and does not keep the process alive.
 */
interface MemoryRequest {
  type: 'soak:memory'
  id: number
}

const isRequest = (m: unknown): m is MemoryRequest => typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'soak:memory'

if (process.send) {
  process.on('message', (message: unknown) => {
    if (!isRequest(message)) return
    // two passes: the first can leave garbage that only the second frees (weak refs, finalizers)
    globalThis.gc?.()
    globalThis.gc?.()
    const { heapUsed, rss } = process.memoryUsage()
    process.send?.({ type: 'soak:memory', id: message.id, heapUsed, rss })
  })
  // the app decides when it exits, as it does without the probe
  process.channel?.unref()
}
