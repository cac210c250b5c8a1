import type { Credential, Store } from '@mqtt-oidc/core'

/** Records one credential; resolves only once it is committed. */
export type RecordCredential = (credential: Credential) => Promise<void>

/**
 * Group commit for the /token route: credentials recorded in the same turn
 * of the event loop go to the store in one transaction (one fsync instead of
 * one per token), and each caller is answered only after that commit. A
 * failed batch is retried one by one, so one bad record fails only its own
 * request.
 */
export function createCredentialRecorder(store: Store): RecordCredential {
  let queue: Pending[] = []
  const flush = async (): Promise<void> => {
    const batch = queue
    queue = []
    try {
      await store.credentials.insertMany(batch.map((p) => p.credential))
      for (const p of batch) p.resolve()
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err)
      for (const p of batch) {
        await store.credentials.insertMany([p.credential]).then(p.resolve, p.reject)
      }
    }
  }
  return (credential) => new Promise<void>((resolve, reject) => {
    if (queue.push({ credential, resolve, reject }) === 1) setImmediate(() => void flush())
  })
}

interface Pending {
  readonly credential: Credential
  readonly resolve: () => void
  readonly reject: (err: unknown) => void
}
