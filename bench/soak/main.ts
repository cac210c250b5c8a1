/**
 * `pnpm soak`: the stack run the way it will be run, for a long time, mostly
 * idle, with parts restarting under a fleet. Two runs: SQLite (IdP, exchange,
 * broker) and PostgreSQL (+ two exchanges, two Redis-backed broker nodes),
 * each app a separate process from its own entry point; a fleet of gateways
 * on the client library; rounds of faults and quiet spells longer than every
 * timeout of the system at its defaults. The first broken invariant fails the
 * run (exit 1) with what happened. Ends with one JSON line.
 *
 *   pnpm soak [--gateways 200] [--duration 10m] [--runs sqlite,postgres] [--token-lifetime 90s] [--keep]
 */
import { parseArgs } from 'node:util'
import { parseDuration } from '@mqtt-oidc/core'
import { runSoak, SOAK_DEFAULTS } from './run-soak.js'
import type { SoakReport } from './run-soak.js'
import { longestIdleTimeout, systemTimeouts } from './lib/system-timeouts.js'
import { mib } from './lib/stats.js'

const { values } = parseArgs({
  options: {
    gateways: { type: 'string', default: String(SOAK_DEFAULTS.gateways) },
    duration: { type: 'string', default: `${SOAK_DEFAULTS.durationS}s` },
    runs: { type: 'string', default: 'sqlite,postgres' },
    'token-lifetime': { type: 'string', default: `${SOAK_DEFAULTS.tokenLifetimeS}s` },
    keep: { type: 'boolean', default: false },
    quiet: { type: 'string' },
    'keep-going': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})
if (values.help) {
  console.log(
    'pnpm soak [--gateways N (200)] [--duration 10m] [--runs sqlite,postgres] [--token-lifetime 90s (60-120 s)] [--keep (keep logs and data)] [--keep-going (record every breach, do not stop at the first)]',
  )
  process.exit(0)
}
const gateways = Number(values.gateways)
const durationS = parseDuration(values.duration)
const tokenLifetimeS = parseDuration(values['token-lifetime'])
const runs = values.runs.split(',').map((r) => r.trim())
if (!Number.isInteger(gateways) || gateways < 1) throw new Error('--gateways: a whole number >= 1')
if (!(durationS > 0)) throw new Error('--duration: a duration such as 10m')
if (!runs.every((r): r is 'sqlite' | 'postgres' => r === 'sqlite' || r === 'postgres')) throw new Error('--runs: sqlite, postgres or both')

const timeouts = systemTimeouts()
const longest = longestIdleTimeout(timeouts)
// --quiet shortens the spells to try the harness; a soak that passes only means something at the default
const quietS = values.quiet === undefined ? 2 * longest + 15 : parseDuration(values.quiet)
console.log(
  `Soak: ${gateways} gateways, ${durationS} s per run (${runs.join(' then ')}), broker tokens of ${tokenLifetimeS} s, ID tokens of ${SOAK_DEFAULTS.idTokenTtlS} s`,
)
console.log('Timeouts of the system at their defaults (idle = runs down while nothing happens):')
for (const t of timeouts)
  console.log(`  ${String(t.seconds).padStart(5)} s  ${t.idle ? 'idle' : '    '}  ${t.name}  [${t.source}]${t.note ? ` (${t.note})` : ''}`)
console.log(
  `Quiet spells: ${quietS} s with no revocation and no fault${values.quiet === undefined ? ` = twice the longest idle timeout (${longest} s) + 15 s` : ` (--quiet; the default is ${2 * longest + 15} s)`}`,
)

const reports: SoakReport[] = []
for (const store of runs) {
  console.log(`\n== ${store} run`)
  const report = await runSoak({
    ...SOAK_DEFAULTS,
    store,
    gateways,
    durationS,
    tokenLifetimeS,
    quietS,
    keep: values.keep,
    keepGoing: values['keep-going'],
    print: (line) => console.log(line),
  })
  reports.push(report)
  printReport(report)
  if (report.breach && !values['keep-going']) break
}

function printReport(r: SoakReport): void {
  const storm = r.faults.storms
  console.log(`-- ${r.store}: ${r.breach ? `FAILED (${r.breach.invariant}) at +${r.breach.atS} s: ${r.breach.message}` : 'passed'}`)
  for (const b of r.breaches.slice(1)) console.log(`   and (${b.invariant}) at +${b.atS} s: ${b.message}`)
  console.log(`  ran ${r.ranS} s after the fleet was up: ${r.rounds} round(s) of faults + ${r.quietS} s quiet spells`)
  console.log(`  renewals: ${r.renewals} (${r.renewalsPerSec}/s)`)
  for (const [i, s] of storm.entries())
    console.log(
      `  broker restart ${i + 1}: CONNECT p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms (${s.connects} CONNECTs); whole fleet back ${s.backAfterKillMs} ms after SIGTERM, ${s.backAfterReadyMs} ms after the broker was ready`,
    )
  console.log(
    `  revoke -> disconnect: p50 ${r.revocations.p50Ms} ms, p99 ${r.revocations.p99Ms} ms, max ${r.revocations.maxMs} ms over ${r.revocations.count} revocations (limit 1000 ms); ${r.revocations.superseded} more found the gateway already switched to a renewed token`,
  )
  if (r.faults.revokedDuringCutMs.length)
    console.log(`  revocations made during a feed cut closed ${r.faults.revokedDuringCutMs.join(', ')} ms after the feed came back`)
  if (r.faults.streamReplacedMs.length)
    console.log(
      `  silent revocation streams replaced after ${r.faults.streamReplacedMs.map((t) => (t / 1000).toFixed(1)).join(', ')} s (idle timeout 45 s, staleness limit 60 s)`,
    )
  console.log(
    `  readings: ${r.readings.acked} acknowledged, ${r.readings.delivered} at the backend, ${r.readings.excused} excused (sent while the in-memory broker's backend session was gone), ${r.readings.acked - r.readings.delivered - r.readings.excused} lost`,
  )
  console.log(`  refused as expected (revoked tokens): ${r.expectedRefusals}; gateways restarted after a revocation: ${r.gatewayRestarts}`)
  console.log('  memory per process (heap after GC / RSS / fds): first sample -> last sample (level after warm-up of the last process)')
  for (const m of r.memory) {
    const f = (s: typeof m.start): string => (s ? `${mib(s.heapUsed)}/${mib(s.rss)} MiB/${s.fds}` : '-')
    const b = m.baseline ? ` (level ${mib(m.baseline.heapUsed)}/${mib(m.baseline.rss)} MiB/${m.baseline.fds})` : ''
    console.log(`    ${m.name.padEnd(11)} ${f(m.start)} -> ${f(m.end)}${b}`)
  }
  if (r.runDir) console.log(`  logs and data: ${r.runDir}`)
}

const pass = reports.length === runs.length && reports.every((r) => !r.breach)
console.log(
  JSON.stringify({
    bench: 'soak',
    gateways,
    durationS,
    tokenLifetimeS,
    quietS,
    longestIdleTimeoutS: longest,
    runs: reports.map((r) => ({
      store: r.store,
      pass: !r.breach,
      breaches: r.breaches.map((b) => `${b.invariant}: ${b.message.slice(0, 300)}`),
      ranS: r.ranS,
      rounds: r.rounds,
      renewals: r.renewals,
      renewalsPerSec: r.renewalsPerSec,
      stormConnectP50Ms: r.faults.storms.map((s) => s.p50Ms),
      stormConnectP99Ms: r.faults.storms.map((s) => s.p99Ms),
      fleetBackAfterKillMs: r.faults.storms.map((s) => s.backAfterKillMs),
      fleetBackAfterReadyMs: r.faults.storms.map((s) => s.backAfterReadyMs),
      revocations: r.revocations.count,
      revokeDisconnectP50Ms: r.revocations.p50Ms,
      revokeDisconnectP99Ms: r.revocations.p99Ms,
      revokeDisconnectMaxMs: r.revocations.maxMs,
      readings: r.readings,
      memory: Object.fromEntries(
        r.memory.map((m) => [
          m.name,
          {
            startHeapMiB: m.start ? mib(m.start.heapUsed) : null,
            endHeapMiB: m.end ? mib(m.end.heapUsed) : null,
            startRssMiB: m.start ? mib(m.start.rss) : null,
            endRssMiB: m.end ? mib(m.end.rss) : null,
            startFds: m.start?.fds ?? null,
            endFds: m.end?.fds ?? null,
          },
        ]),
      ),
    })),
    pass,
  }),
)
process.exit(pass ? 0 : 1)
