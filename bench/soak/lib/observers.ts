import type { AdminClient } from '@mqtt-oidc/client'
import { Backend, IdleClient, lastAttempt } from './backend.js'
import type { Monitor } from './monitor.js'
import type { SoakState } from './soak-state.js'
import type { Stack } from './start-stack.js'
import { BROKER_ID } from './start-stack.js'

/** The clients that watch the fleet rather than belong to it. */
export interface Observers {
  readonly backend: Backend
  readonly idles: readonly IdleClient[]
  close(): Promise<void>
}

/**
 * The backend (on the first broker node) and one idle client per node, with
 * admin-issued credentials that must never be refused, and that the broker
 * must never disconnect except while it restarts. The credentials are issued
 * before the broker gets the soak's short expiration, which would cap theirs.
 */
export async function startObservers(stack: Stack, admin: AdminClient, state: SoakState, monitor: Monitor, tokenLifetimeS: number): Promise<Observers> {
  const never =
    (who: string) =>
    (rc: number): void => {
      if (rc !== 0) monitor.fail('credential-refused', `${who} (admin-issued credential, never revoked) got CONNACK ${rc}`)
    }
  const idleIds = stack.brokerUrls.map((_, i) => `soak-idle-${i + 1}`)
  const creds = await admin.issueCredentials(BROKER_ID, { clientIds: ['soak-backend', ...idleIds], expiration: '1d' })
  await admin.updateBroker(BROKER_ID, { expiration: tokenLifetimeS })
  const backend = new Backend(stack.brokerUrls[0]!, 'soak-backend', creds['soak-backend'] ?? '', never('the backend'))
  const idles = stack.brokerUrls.map((url, i) => new IdleClient(url, idleIds[i]!, creds[idleIds[i]!] ?? '', never(idleIds[i]!)))
  const cutOff = (who: string, attempt: () => string) => (): void => {
    const now = Date.now()
    if (!state.disruptions.some((d) => d.kind === 'broker' && now >= d.from && now <= (d.until ?? Infinity) + 3000)) {
      monitor.fail('idle-client-cut', `${who} was disconnected while no broker was restarting (${attempt()})`)
    }
  }
  backend.client.on('close', cutOff('the backend', lastAttempt(backend.client)))
  idles.forEach((c, i) => c.client.on('close', cutOff(idleIds[i]!, lastAttempt(c.client))))
  await monitor.until(
    () => backend.subscribed && idles.every((c) => c.client.connected),
    30_000,
    'setup',
    () => 'the backend or an idle client was not connected within 30 s',
  )
  return {
    backend,
    idles,
    close: async () => {
      await Promise.all([backend.close(), ...idles.map((c) => c.close())].map((p) => p.catch(() => undefined)))
    },
  }
}
