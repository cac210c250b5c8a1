import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Polls `check` every 100 ms (real timers, whatever Date says) until it holds; throws after
 * `timeoutMs`, saying `what` was awaited (a function: worded at the time of failure, with its counts).
 */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what?: string | (() => string)): Promise<void> {
  for (let waited = 0; waited < timeoutMs; waited += 100) {
    if (await check()) return
    await sleep(100)
  }
  const shown = typeof what === 'function' ? what() : what
  throw new Error(`condition not met within ${timeoutMs / 1000} s${shown ? `: ${shown}` : ''}`)
}
