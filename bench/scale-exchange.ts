/**
 * Child process of bench/scale.ts: one exchange instance on the shared
 * PostgreSQL (argv: store URL, IdP issuer, public issuer). Reports `{url}`.
 */
import { pino } from 'pino'
import { openStore, withStartupLock } from '@mqtt-oidc/core'
import { createExchange, ensureBroker } from '@mqtt-oidc/exchange'

const [storeUrl, idpIssuer, issuer] = process.argv.slice(2) as [string, string, string]
const store = await openStore({ url: storeUrl, dataDir: '.', file: 'unused.sqlite' })
await ensureBroker(store, { id: 'demo' })
const exchange = createExchange({ store, issuer, idp: { issuer: idpIssuer }, logger: pino({ level: 'silent' }) })
const { url } = await withStartupLock(storeUrl, 'exchange-start', () => exchange.listen())
process.send?.({ url })
