import { describe, expect, it } from 'vitest'
import { runSoak, SOAK_DEFAULTS } from '../bench/soak/run-soak.js'
import type { SoakReport } from '../bench/soak/run-soak.js'

// The short form of `pnpm soak`: the stack as separate processes (the apps'
// own entry points), a fleet of gateways on the client library, one round of
// faults (exchange, IdP, broker, PostgreSQL and Redis restarts, a random revocation
// between each, the revocation feed cut and then stalled, key rotations with
// the CLI), then a quiet spell twice as long as the longest timeout that runs
// down while the system idles (at its defaults), then a revocation and a new
// credential that must work at once. Every invariant is checked as it
// happens: no valid credential refused, no acknowledged QoS 1 reading lost,
// every revocation enforced, memory and descriptors flat after warm-up, no
// error logged. The two runs go side by side.
//
// Wall-clock bounds here are generous timeouts, not figures: the figures
// (revoke -> disconnect within 1 s, storm latencies) are `pnpm soak`'s.

const GATEWAYS = 20

function summary(r: SoakReport, lines: readonly string[]): string {
  return [
    `${r.store}: ${r.breach ? `BREACH ${r.breach.invariant} at +${r.breach.atS} s: ${r.breach.message}` : 'no breach'}${r.runDir ? ` (logs: ${r.runDir})` : ''}`,
    ...r.knownFaultsSeen.map((k) => `known fault seen ${k.times} time(s): ${k.fault.why}`),
    ...lines.slice(-40),
  ].join('\n')
}

describe.concurrent('soak (short form): the stack left alone under a fleet, with parts restarting', () => {
  for (const store of ['sqlite', 'postgres'] as const) {
    it(
      `on ${store}: no valid credential refused, no acknowledged reading lost, every revocation enforced, memory flat, no error logged`,
      async () => {
        const lines: string[] = []
        const report = await runSoak({
          ...SOAK_DEFAULTS,
          store,
          gateways: GATEWAYS,
          durationS: 1, // one round
          // enforced, not timed: the 1 s figure belongs to `pnpm soak` on a machine it has to itself
          revokeDeadlineMs: 10_000,
          print: (line) => lines.push(line),
        })
        console.log(summary(report, lines))
        expect(report.breach).toBeUndefined()
        expect(report.rounds).toBe(1)
        expect(report.quietS).toBeGreaterThanOrEqual(2 * report.longestIdleTimeoutS)
        expect(report.renewals).toBeGreaterThan(GATEWAYS)
        expect(report.readings.acked).toBeGreaterThan(GATEWAYS * 10)
        expect(report.readings.acked - report.readings.delivered - report.readings.excused).toBe(0)
        expect(report.faults.storms).toHaveLength(1)
        expect(report.faults.streamReplacedMs.length).toBe(store === 'postgres' ? 2 : 1)
        // the PostgreSQL run's two broker nodes share a Redis, restarted under them
        expect(report.faults.restarts.redis ?? 0).toBe(store === 'postgres' ? 1 : 0)
      },
      15 * 60_000,
    )
  }
})
