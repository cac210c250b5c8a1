/**
 * A runnable headless gateway (the README's recipe), against `pnpm start`:
 *
 *   pnpm mqtt-oidc login --device --config-dir ./.gateway   # once, at install
 *   pnpm tsx --conditions=@mqtt-oidc/source packages/client/test/examples/gateway.ts ./.gateway [broker] [brokerUrl]
 *
 * It publishes a counter at QoS 1 every 5 seconds to devices/<clientid>/telemetry
 * for as long as the login lasts, renewing and reconnecting ahead of each token
 * expiry. Exits 2 when the login is gone, 1 on any other refusal.
 */
import { connect, LoginRequired } from '../../src/index.js'

const [configDir = './.gateway', broker = 'demo', brokerUrl = 'mqtt://localhost:1883'] = process.argv.slice(2)

try {
  const client = await connect({
    issuer: 'http://localhost:4000',
    exchangeUrl: 'http://localhost:4001',
    broker,
    brokerUrl,
    configDir,
    onRenewed: (t) => console.error(`renewed: broker token ${t.jti ?? ''} until ${new Date((t.expiresAt ?? 0) * 1000).toISOString()}`),
    onRenewError: (err) => console.error(`renewal failed (retrying while the token is valid): ${String(err)}`),
    onRefused: (err) => {
      console.error(`${err.code}: ${err.message}`)
      process.exit(1)
    },
  })
  const topic = `devices/${String(client.options.clientId)}/telemetry`
  console.error(`connected as ${String(client.options.clientId)}; publishing to ${topic} (Ctrl-C to stop)`)
  let n = 0
  const timer = setInterval(() => {
    client
      .publishAsync(topic, JSON.stringify({ n: n++, at: new Date().toISOString() }), { qos: 1 })
      .catch((err: unknown) => console.error(`publish failed: ${String(err)}`))
  }, 5_000)
  process.once('SIGINT', () => {
    clearInterval(timer)
    void client.endAsync().then(() => process.exit(0))
  })
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err))
  process.exit(err instanceof LoginRequired ? 2 : 1)
}
