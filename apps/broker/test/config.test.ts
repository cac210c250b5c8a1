import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '@mqtt-oidc/core'
import { loadBrokerConfig } from '../src/index.js'

const problemsOf = (env: NodeJS.ProcessEnv): readonly string[] => {
  try {
    loadBrokerConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

describe('MQTT_OIDC_BROKER_* configuration', () => {
  it('works with no configuration at all, on loopback defaults', () => {
    expect(loadBrokerConfig({})).toEqual({
      brokerId: 'demo',
      exchangeUrl: 'http://localhost:4001',
      issuer: 'http://localhost:4001',
      jwksUri: undefined,
      host: '127.0.0.1',
      mqttPort: 1883,
      wsPort: 8083,
      clockTolerance: 5,
      jwksRefreshIntervalMs: 60_000,
      jwksCooldownMs: 30_000,
      jwksMaxStaleMs: 3_600_000,
      feedMaxStaleMs: 60_000,
      feedPolicy: 'fail-closed',
      feedCredentialFile: resolve('.data/feed-credentials/demo'),
      maxConnectBytes: 65_536,
      maxPacketBytes: 1_048_576,
      connectTimeoutMs: 10_000,
      connectFailures: { maxFailures: 30, windowMs: 60_000, holdMs: 10_000, maxHoldMs: 300_000 },
      verifiedCacheSize: 1000,
      metricsPort: undefined,
      tls: undefined,
      emqxHookPort: 8991,
      emqxApi: undefined,
      redisUrl: undefined,
      reportSessions: true,
      nodeId: undefined,
      logLevel: 'info',
      warnings: ['plain HTTP for keys and revocations (http://localhost:4001): development only'],
    })
  })

  it('reads every variable, ignoring the MQTT_OIDC_* variables of other apps', () => {
    const config = loadBrokerConfig({
      MQTT_OIDC_BROKER_ID: 'plant-7',
      MQTT_OIDC_BROKER_EXCHANGE_URL: 'https://exchange.example/',
      MQTT_OIDC_BROKER_ISSUER: 'https://issuer.example',
      MQTT_OIDC_BROKER_HOST: '0.0.0.0',
      MQTT_OIDC_BROKER_MQTT_PORT: '11883',
      MQTT_OIDC_BROKER_WS_PORT: '0',
      MQTT_OIDC_IDP_PORT: '4000',
    })
    expect(config).toMatchObject({
      brokerId: 'plant-7', exchangeUrl: 'https://exchange.example', issuer: 'https://issuer.example',
      host: '0.0.0.0', mqttPort: 11883, wsPort: 0, warnings: [],
    })
  })

  it('lists every problem at once, unknown variables included', () => {
    expect(problemsOf({
      MQTT_OIDC_BROKER_ID: 'Not A Broker',
      MQTT_OIDC_BROKER_MQTT_PORT: '70000',
      MQTT_OIDC_BROKER_EXCHANGE_URL: 'ftp://x',
      MQTT_OIDC_BROKER_PROT: '1',
      MQTT_OIDC_BROKER_HOSTNAME: 'x',
    })).toEqual([
      expect.stringMatching(/^MQTT_OIDC_BROKER_PROT: unknown variable \(known: MQTT_OIDC_BROKER_ID, /),
      expect.stringMatching(/^MQTT_OIDC_BROKER_HOSTNAME: unknown variable \(known: /),
      'MQTT_OIDC_BROKER_ID: a broker id is 1-63 lowercase letters, digits or dashes, starting with a letter or digit',
      expect.stringMatching(/^MQTT_OIDC_BROKER_EXCHANGE_URL must /),
      'MQTT_OIDC_BROKER_MQTT_PORT must be a whole number from 0 to 65535, got "70000"',
    ])
  })

  it('reads the JWKS, feed policy, metrics and TLS settings (seconds become ms)', () => {
    expect(loadBrokerConfig({
      MQTT_OIDC_BROKER_JWKS_REFRESH_SECONDS: '60', MQTT_OIDC_BROKER_JWKS_COOLDOWN_SECONDS: '5', MQTT_OIDC_BROKER_JWKS_MAX_STALE_SECONDS: '600',
      MQTT_OIDC_BROKER_FEED_MAX_STALE_SECONDS: '10', MQTT_OIDC_BROKER_FEED_POLICY: 'fail-open', MQTT_OIDC_BROKER_METRICS_PORT: '9464',
      MQTT_OIDC_BROKER_TLS_CERT: '/etc/mqtt/cert.pem', MQTT_OIDC_BROKER_TLS_KEY: '/etc/mqtt/key.pem',
    })).toMatchObject({
      jwksRefreshIntervalMs: 60_000, jwksCooldownMs: 5000, jwksMaxStaleMs: 600_000, feedMaxStaleMs: 10_000, feedPolicy: 'fail-open',
      metricsPort: 9464, tls: { certPath: '/etc/mqtt/cert.pem', keyPath: '/etc/mqtt/key.pem', port: 8883 },
    })
  })

  it('refuses a TLS certificate without a key, and an unknown feed policy', () => {
    expect(problemsOf({ MQTT_OIDC_BROKER_TLS_CERT: '/c.pem' })).toEqual(['MQTT_OIDC_BROKER_TLS_CERT and MQTT_OIDC_BROKER_TLS_KEY go together: set both or neither'])
    expect(problemsOf({ MQTT_OIDC_BROKER_EMQX_API_URL: 'http://emqx:18083' })).toEqual(['MQTT_OIDC_BROKER_EMQX_API_URL, _KEY and _SECRET go together: set all three or none'])
    expect(problemsOf({ MQTT_OIDC_BROKER_FEED_POLICY: 'maybe' })).toEqual(['MQTT_OIDC_BROKER_FEED_POLICY must be fail-closed or fail-open, got "maybe"'])
  })

  it('reads the connection limits and the failure budget (seconds become ms), and the feed credential file', () => {
    expect(loadBrokerConfig({
      MQTT_OIDC_BROKER_ID: 'plant-7', MQTT_OIDC_DATA_DIR: '/var/lib/mqtt-oidc',
      MQTT_OIDC_BROKER_MAX_CONNECT_BYTES: '16384', MQTT_OIDC_BROKER_MAX_PACKET_BYTES: '262144', MQTT_OIDC_BROKER_CONNECT_TIMEOUT_SECONDS: '5',
      MQTT_OIDC_BROKER_CONNECT_FAILURE_BUDGET: '0', MQTT_OIDC_BROKER_CONNECT_FAILURE_WINDOW_SECONDS: '120',
      MQTT_OIDC_BROKER_CONNECT_HOLD_SECONDS: '2', MQTT_OIDC_BROKER_CONNECT_HOLD_MAX_SECONDS: '60', MQTT_OIDC_BROKER_VERIFIED_CACHE_SIZE: '0',
    })).toMatchObject({
      feedCredentialFile: '/var/lib/mqtt-oidc/feed-credentials/plant-7',
      maxConnectBytes: 16_384, maxPacketBytes: 262_144, connectTimeoutMs: 5000,
      connectFailures: { maxFailures: 0, windowMs: 120_000, holdMs: 2000, maxHoldMs: 60_000 }, verifiedCacheSize: 0,
    })
    expect(loadBrokerConfig({ MQTT_OIDC_BROKER_FEED_CREDENTIAL_FILE: '/run/secrets/feed' }).feedCredentialFile).toBe('/run/secrets/feed')
    expect(problemsOf({ MQTT_OIDC_BROKER_MAX_PACKET_BYTES: '268435456', MQTT_OIDC_BROKER_CONNECT_TIMEOUT_SECONDS: '0' })).toEqual([
      expect.stringMatching(/^MQTT_OIDC_BROKER_MAX_PACKET_BYTES must /),
      expect.stringMatching(/^MQTT_OIDC_BROKER_CONNECT_TIMEOUT_SECONDS must /),
    ])
  })

  it('reads the Redis URL shared by the nodes of one broker, and refuses any other scheme', () => {
    expect(loadBrokerConfig({ MQTT_OIDC_BROKER_REDIS_URL: 'redis://redis:6379/2' }).redisUrl).toBe('redis://redis:6379/2')
    expect(loadBrokerConfig({ MQTT_OIDC_BROKER_REPORT_SESSIONS: 'false', MQTT_OIDC_BROKER_NODE_ID: 'plant-7-a' })).toMatchObject({ reportSessions: false, nodeId: 'plant-7-a' })
    expect(problemsOf({ MQTT_OIDC_BROKER_NODE_ID: 'has space' })).toEqual(['MQTT_OIDC_BROKER_NODE_ID must be 1 to 128 printable ASCII characters'])
    expect(problemsOf({ MQTT_OIDC_BROKER_REDIS_URL: 'http://redis:6379' })).toEqual(['MQTT_OIDC_BROKER_REDIS_URL must be a redis:// URL'])
  })

  it('reads an empty variable as unset, as the other apps do: an empty metrics port opens no metrics listener', () => {
    expect(loadBrokerConfig({ MQTT_OIDC_BROKER_METRICS_PORT: '', MQTT_OIDC_BROKER_MQTT_PORT: '', MQTT_OIDC_BROKER_ID: '' }))
      .toMatchObject({ metricsPort: undefined, mqttPort: 1883, brokerId: 'demo' })
  })

  it('refuses plain HTTP exchange URLs when NODE_ENV=production', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['NODE_ENV=production refuses plain HTTP URLs: http://localhost:4001'])
    expect(problemsOf({ NODE_ENV: 'production', MQTT_OIDC_BROKER_EXCHANGE_URL: 'https://exchange.example' })).toEqual([])
  })
})
