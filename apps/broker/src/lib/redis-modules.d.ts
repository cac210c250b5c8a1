// The two aedes Redis backends ship no types; aedes takes them as `any`.
declare module 'mqemitter-redis' {
  import type { EventEmitter } from 'node:events'
  function mqemitterRedis(options: Record<string, unknown>): {
    close(cb: () => void): void
    /** Where mqemitter-redis re-emits its connections' errors: without a listener, the first one throws. */
    readonly state: EventEmitter
  }
  export default mqemitterRedis
}

declare module 'aedes-persistence-redis' {
  function aedesPersistenceRedis(options: Record<string, unknown>): object
  export default aedesPersistenceRedis
}
