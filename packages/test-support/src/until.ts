import { setTimeout as sleep } from 'node:timers/promises'

/** Polls `check` every 100 ms (real timers, whatever Date says) until it holds; throws after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  for (let waited = 0; waited < timeoutMs; waited += 100) {
    if (await check()) return
    await sleep(100)
  }
  throw new Error(`condition not met within ${timeoutMs / 1000} s`)
}
