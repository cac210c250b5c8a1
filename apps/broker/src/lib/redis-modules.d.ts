// The two aedes Redis backends ship no types; aedes takes them as `any`.
declare module 'mqemitter-redis' {
  function mqemitterRedis(options: Record<string, unknown>): { close(cb: () => void): void }
  export default mqemitterRedis
}

declare module 'aedes-persistence-redis' {
  function aedesPersistenceRedis(options: Record<string, unknown>): object
  export default aedesPersistenceRedis
}
