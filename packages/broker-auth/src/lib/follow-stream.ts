import { describeError } from './describe-error.js'
import { catchUp } from './catch-up.js'
import type { FeedClient } from './feed-client.js'
import { parseSseFeedEvent } from './feed-messages.js'
import type { FeedEvent } from './feed-messages.js'
import { readEventStream } from './read-event-stream.js'
import type { RevocationState } from './revocation-state.js'
import type { LogFn } from '../types.js'

export interface FollowStreamOptions {
  readonly client: FeedClient
  readonly state: RevocationState
  /** Replace a stream that delivered no byte for this long, ms. */
  readonly idleTimeoutMs: number
  /** The follower stopped: end quietly. */
  readonly signal: AbortSignal
  readonly onOpen: () => void
  /** Any byte on the stream, keepalive comments included, is contact. */
  readonly onContact: () => void
  readonly log: LogFn
  readonly fields: Record<string, unknown>
}

/** One stream connection. Resolves with whether it opened (then it ended or dropped); the HTTP status when refused. */
export async function followStream(o: FollowStreamOptions): Promise<{ opened: boolean; status?: number }> {
  const abort = new AbortController()
  const opening = await o.client.openStream(o.state.revision, abort.signal)
  if (!opening.ok) {
    if (opening.status === undefined) o.log('warn', 'revocation stream unreachable', { ...o.fields, err: describeError(opening.err) })
    else o.log('warn', 'revocation stream refused', { ...o.fields, status: opening.status })
    return { opened: false, status: opening.status }
  }
  o.onOpen()
  o.log('info', 'revocation stream open', { ...o.fields, revision: o.state.revision })
  try {
    for await (const events of readEventStream(opening.body, o.idleTimeoutMs, () => abort.abort())) {
      o.onContact()
      for (const e of events) await onEvent(o, e.id, e.event, e.data)
    }
    if (!o.signal.aborted) o.log('warn', 'revocation stream ended', { ...o.fields, revision: o.state.revision })
  } catch (err) {
    if (!o.signal.aborted) o.log('warn', 'revocation stream dropped', { ...o.fields, revision: o.state.revision, err: describeError(err) })
  }
  return { opened: true }
}

async function onEvent(o: FollowStreamOptions, id: string | undefined, event: string, data: string): Promise<void> {
  if (event !== 'revoke' && event !== 'unrevoke') return
  let e: FeedEvent
  try {
    e = parseSseFeedEvent(id, event, data)
  } catch (err) {
    o.log('warn', 'revocation stream event ignored', { ...o.fields, err: describeError(err) })
    return
  }
  // a hole in the revisions means we missed something: catch up before going on
  // (a failing catch-up throws, dropping the stream, which resumes from our revision)
  if (e.revision > o.state.revision + 1) await catchUp(o.client, o.state)
  o.state.apply(e)
}
