import type { Response } from 'express'
import { RevocationsUnavailable, TooManyRequests } from '@mqtt-oidc/core'

export interface FeedStreamLimits {
  /** Open revocation streams in all, this instance. */
  readonly maxStreams: number
  /** Open revocation streams of one broker (one per node of a clustered broker, plus EMQX hooks). */
  readonly maxStreamsPerBroker: number
}

/** Seconds a refused stream is told to wait (Retry-After); the follower polls meanwhile. */
export const STREAM_RETRY_AFTER_SECONDS = 30

interface OpenStream {
  readonly broker: string
  /** Digest of the feed credential the stream was opened with. */
  readonly credential: string
}

/** The open SSE streams of this instance, capped in all and per broker. */
export interface FeedStreams {
  /** Registers a stream; throws TooManyRequests (429) over the per-broker cap, RevocationsUnavailable (503) over the total one. */
  open(res: Response, broker: string, credential: string): void
  /** Forgets a stream that closed. */
  closed(res: Response): void
  /** Ends the broker's streams opened with another credential than `current` (after a rotation). */
  endOthers(broker: string, current: string): number
  /** Ends every stream (the exchange is closing). */
  endAll(): void
  readonly size: number
}

export function createFeedStreams(limits: FeedStreamLimits): FeedStreams {
  const open = new Map<Response, OpenStream>()
  const perBroker = new Map<string, number>()

  return {
    open(res, broker, credential) {
      const mine = perBroker.get(broker) ?? 0
      if (mine >= limits.maxStreamsPerBroker) {
        res.set('Retry-After', String(STREAM_RETRY_AFTER_SECONDS))
        throw new TooManyRequests(`broker "${broker}" already has ${mine} revocation streams open; close one, or poll ?since=N`)
      }
      if (open.size >= limits.maxStreams) {
        res.set('Retry-After', String(STREAM_RETRY_AFTER_SECONDS))
        throw new RevocationsUnavailable('this exchange holds as many revocation streams as it may; poll ?since=N or retry later')
      }
      open.set(res, { broker, credential })
      perBroker.set(broker, mine + 1)
    },
    closed(res) {
      const stream = open.get(res)
      if (!stream) return
      open.delete(res)
      const left = (perBroker.get(stream.broker) ?? 1) - 1
      if (left > 0) perBroker.set(stream.broker, left)
      else perBroker.delete(stream.broker)
    },
    endOthers(broker, current) {
      let ended = 0
      for (const [res, stream] of open) {
        if (stream.broker !== broker || stream.credential === current) continue
        res.end()
        ended++
      }
      return ended
    },
    endAll() {
      for (const res of open.keys()) res.end()
    },
    get size() {
      return open.size
    },
  }
}
