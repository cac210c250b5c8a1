/**
 * Child process of bench/scale.ts: one exchange instance on the shared
 * PostgreSQL (argv: store URL, IdP issuer, public issuer). Reports `{url}`.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { openStore, withStartupLock } from '@mqtt-oidc/store'
import { REDACT_PATHS, createExchange, ensureBroker } from '@mqtt-oidc/exchange'

const [storeUrl, idpIssuer, issuer] = process.argv.slice(2) as [string, string, string]
const store = await openStore({ url: storeUrl, dataDir: '.', file: 'unused.sqlite' })
await ensureBroker(store, { id: 'demo' })
// As deployed (info logging, to a file of its own), with the per-subject limit above this load
// (256 subjects at thousands of exchanges/s), so it refuses no one.
const logger = pino({ name: 'exchange', level: 'info', redact: REDACT_PATHS }, pino.destination(join(mkdtempSync(join(tmpdir(), 'mqtt-oidc-scale-')), 'exchange.log')))
const exchange = createExchange({
  store, issuer, idp: { issuer: idpIssuer }, logger, subjectRateLimit: { requests: 1_000_000_000, windowSeconds: 60 },
})
const { url } = await withStartupLock(storeUrl, 'exchange-start', () => exchange.listen())
process.send?.({ url })
