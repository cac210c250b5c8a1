import type { FeedClient } from './feed-client.js'
import type { RevocationState } from './revocation-state.js'

/** Most `?since=N` pages read in one catch-up before giving the loop back. */
const MAX_PAGES = 100

/**
 * Brings `state` up to the feed's current revision with `?since=N` pages;
 * reloads the snapshot when the server's history does not continue ours (a
 * gap, or a revision behind ours).
 */
export async function catchUp(client: FeedClient, state: RevocationState): Promise<void> {
  for (let page = 0; page < MAX_PAGES; page++) {
    const { revision, events } = await client.since(state.revision)
    const first = events[0]
    const gap = first ? first.revision > state.revision + 1 : revision > state.revision
    if (revision < state.revision || gap) return state.load(await client.snapshot())
    for (const event of events) state.apply(event)
    if (state.revision >= revision) return
  }
}
