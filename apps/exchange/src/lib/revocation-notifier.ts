import { EventEmitter } from 'node:events'

/**
 * In-process signal "broker X's revocations changed", raised by the admin
 * routes after the store has committed. Listeners (the SSE streams) read
 * the new events from the store themselves, so a missed or merged signal
 * never loses an event.
 */
export interface RevocationNotifier {
  notify(broker: string): void
  /** Returns a function that removes the listener. */
  subscribe(broker: string, listener: () => void): () => void
}

export function createRevocationNotifier(): RevocationNotifier {
  const emitter = new EventEmitter()
  emitter.setMaxListeners(0)
  return {
    notify: (broker) => { emitter.emit(broker) },
    subscribe: (broker, listener) => {
      emitter.on(broker, listener)
      return () => { emitter.off(broker, listener) }
    },
  }
}
