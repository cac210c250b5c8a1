import type { ConnectThrottle } from '@mqtt-oidc/broker-auth'

/** The same per-address throttle, counting connections refused while held off and the hold-offs it starts (metrics). */
export function observeThrottle(throttle: ConnectThrottle, counts: { heldOff(): void; holdOff(): void }): ConnectThrottle {
  return {
    heldFor(address) {
      const held = throttle.heldFor(address)
      if (held > 0) counts.heldOff()
      return held
    },
    fail(address) {
      const hold = throttle.fail(address)
      if (hold > 0) counts.holdOff()
      return hold
    },
    get size() {
      return throttle.size
    },
  }
}
