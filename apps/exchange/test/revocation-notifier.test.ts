import { describe, expect, it } from 'vitest'
import type { RevocationWatch } from '@mqtt-oidc/core'
import { createRevocationNotifier } from '../src/lib/revocation-notifier.js'

/** The store's watch as PostgreSQL gives it: reports arrive from elsewhere, once `ready`. */
function storeWatch() {
  let report: (broker: string) => void = () => {}
  let markReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => {
    markReady = resolve
  })
  let stopped = false
  return {
    revocations: {
      watch: (listener: (broker: string) => void): RevocationWatch => {
        report = listener
        return {
          ready,
          stop: () => {
            stopped = true
          },
        }
      },
    },
    report: (broker: string) => report(broker),
    markReady: () => markReady(),
    stopped: () => stopped,
  }
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('revocation notifier fed by the store', () => {
  it('wakes the streams of the broker whose revocations another instance changed, once per turn', async () => {
    const store = storeWatch()
    const notifier = createRevocationNotifier(store.revocations)
    const woken: string[] = []
    notifier.subscribe('plant-1', () => woken.push('plant-1'))
    notifier.subscribe('plant-2', () => woken.push('plant-2'))
    const started = notifier.start()
    store.markReady()
    await started
    await turn()
    woken.length = 0 // the wake-up every stream gets once the watch is listening

    store.report('plant-1')
    notifier.notify('plant-1') // the local route's hint for the same commit
    await turn()
    expect(woken).toEqual(['plant-1'])
  })

  it("wakes every stream on '*' and once the watch is listening (streams opened before may have missed a commit)", async () => {
    const store = storeWatch()
    const notifier = createRevocationNotifier(store.revocations)
    const woken: string[] = []
    const unsubscribe = notifier.subscribe('a', () => woken.push('a'))
    notifier.subscribe('b', () => woken.push('b'))
    const started = notifier.start()
    store.markReady()
    await started
    await turn()
    expect(woken.sort()).toEqual(['a', 'b'])

    unsubscribe()
    woken.length = 0
    store.report('*')
    await turn()
    expect(woken).toEqual(['b'])
    notifier.stop()
    expect(store.stopped()).toBe(true)
  })

  it('treats a broker named like an EventEmitter event as any other', async () => {
    const store = storeWatch()
    const notifier = createRevocationNotifier(store.revocations)
    notifier.notify('error')
    await turn()
    let woken = 0
    notifier.subscribe('error', () => {
      woken++
    })
    notifier.notify('error')
    await turn()
    expect(woken).toBe(1)
  })
})
