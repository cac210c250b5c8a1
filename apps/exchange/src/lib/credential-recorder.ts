import type { Credential, Store } from '@mqtt-oidc/core'

/** Records one credential; resolves only once it is committed. */
export type RecordCredential = (credential: Credential) => Promise<void>

/**
 * Group commit for the /token route: one transaction in flight at a time,
 * and every credential that arrives meanwhile goes into the next one, so a
 * slow commit (an fsync under disk contention) makes batches larger instead
 * of queueing more transactions; each caller is answered only after its
 * batch is committed. A failed batch is retried one by one, so one bad
 * record fails only its own request.
 */
export function createCredentialRecorder(store: Store): RecordCredential {
  let queue: Pending[] = []
  let committing = false
  const commit = async (batch: readonly Pending[]): Promise<void> => {
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
  const flush = async (): Promise<void> => {
    committing = true
    while (queue.length > 0) {
      const batch = queue
      queue = []
      await commit(batch)
    }
    committing = false
  }
  return (credential) =>
    new Promise<void>((resolve, reject) => {
      // The first record of a turn schedules a flush, unless a commit is running: it takes this one next.
      if (queue.push({ credential, resolve, reject }) === 1 && !committing) setImmediate(() => void flush())
    })
}

interface Pending {
  readonly credential: Credential
  readonly resolve: () => void
  readonly reject: (err: unknown) => void
}
