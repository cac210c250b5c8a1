/**
 * `npm run bench:cli-start`: how long `mqtt-oidc --version` and
 * `mqtt-oidc broker --help` take to start and exit, as the installed launcher
 * runs them (bin/mqtt-oidc.js on the compiled dist/; run `npm run build`
 * first), against `node -e 0` measured in the same run, runs interleaved so
 * every case sees the same load. BENCH_CLI_SOURCE=1 runs the launcher on the
 * TypeScript sources through tsx instead (how the CLI once started).
 * Target: the CLI's own start (median minus node's) under 0.5 s. Ends with
 * one JSON line.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { median } from './lib/broker-token-fixture.js'

const RUNS = Number(process.env.BENCH_RUNS ?? 15)
const SOURCE = process.env.BENCH_CLI_SOURCE === '1'
const TARGET_SECONDS = 0.5
const require = createRequire(import.meta.url)
// The installed @mqtt-oidc/cli, as `npx mqtt-oidc` finds it.
const CLI_DIR = dirname(require.resolve('@mqtt-oidc/cli/package.json'))
const BIN = join(CLI_DIR, 'bin', 'mqtt-oidc.js')
const tsx = require.resolve('tsx')

if (!SOURCE && !existsSync(join(CLI_DIR, 'dist', 'main.js'))) {
  console.error('the CLI is not built: run `npm run build` first (or BENCH_CLI_SOURCE=1 for the sources)')
  process.exit(1)
}

const launcher = SOURCE ? ['--conditions=@mqtt-oidc/source', '--import', tsx, BIN] : [BIN]
const cases = {
  node: ['-e', '0'],
  version: [...launcher, '--version'],
  help: [...launcher, 'broker', '--help'],
} as const
type Case = keyof typeof cases
const names = Object.keys(cases) as Case[]
// The bench's own environment must not leak in (a developer's MQTT_OIDC_* variables).
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MQTT_OIDC_')))

const times: Record<Case, number[]> = { node: [], version: [], help: [] }
const run = (name: Case): number => {
  const started = process.hrtime.bigint()
  const r = spawnSync(process.execPath, cases[name], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  if (r.status !== 0 && !(name === 'version' && process.env.BENCH_ALLOW_FAIL === '1')) {
    throw new Error(`${name} exited ${String(r.status)}: ${r.stderr.toString().trim()}`)
  }
  return seconds
}
for (const name of names) run(name) // warm the file cache
for (let i = 0; i < RUNS; i++) for (const name of names) times[name].push(run(name))

const m = Object.fromEntries(names.map((n) => [n, median(times[n])])) as Record<Case, number>
const ms = (s: number): string => `${Math.round(s * 1000)} ms`.padStart(8)
const own = (n: Case): number => Math.round((m[n] - m.node) * 1000) / 1000
const ratio = (n: Case): number => Math.round((m[n] / m.node) * 100) / 100

console.log(`mqtt-oidc start, ${SOURCE ? 'sources through tsx' : 'compiled dist/'}, ${RUNS} runs each, interleaved (medians)`)
console.log(`${''.padEnd(26)}    wall  vs node -e 0  CLI's own`)
const row = (label: string, n: Case, extra = ''): void => {
  console.log(`  ${label.padEnd(24)}${ms(m[n])}  ${`${ratio(n).toFixed(2)}x`.padStart(12)}  ${n === 'node' ? '' : ms(own(n))}${extra}`)
}
row('node -e 0', 'node')
row('mqtt-oidc --version', 'version', `   target < ${TARGET_SECONDS} s`)
row('mqtt-oidc broker --help', 'help')
console.log(
  JSON.stringify({
    bench: 'cli-start',
    mode: SOURCE ? 'source' : 'dist',
    runs: RUNS,
    nodeSeconds: Math.round(m.node * 1000) / 1000,
    versionSeconds: Math.round(m.version * 1000) / 1000,
    helpSeconds: Math.round(m.help * 1000) / 1000,
    versionRatio: ratio('version'),
    helpRatio: ratio('help'),
    versionOwnSeconds: own('version'),
    helpOwnSeconds: own('help'),
    targetSeconds: TARGET_SECONDS,
    pass: Math.max(m.version, m.help) < TARGET_SECONDS,
  }),
)
