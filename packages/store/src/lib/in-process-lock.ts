/**
 * Named locks within this process: holders of one name run one at a time, in
 * call order; different names do not wait for each other. A failed holder
 * releases the lock like a successful one.
 */
export function createInProcessLock(): <T>(name: string, fn: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>()
  return <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const previous = tails.get(name) ?? Promise.resolve()
    const run = previous.then(fn, fn)
    const tail = run.catch(() => undefined)
    tails.set(name, tail)
    void tail.then(() => { if (tails.get(name) === tail) tails.delete(name) })
    return run
  }
}
