import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '@mqtt-oidc/core'
import { loadConfig } from '../src/config.js'

describe('loadConfig (MQTT_OIDC_IDP_* environment)', () => {
  it('works with no configuration at all, on loopback defaults', () => {
    expect(loadConfig({})).toEqual({
      dataDir: resolve('./.data'),
      store: undefined,
      issuer: 'http://localhost:4000',
      host: '127.0.0.1',
      port: 4000,
      exchangeUrl: 'http://localhost:4001',
      devicePollInterval: 5,
      idTokenTtl: 3600,
      demoAccount: true,
      trustedProxies: 0,
      dynamicRegistration: false,
      adminGroup: 'mqtt-oidc-admins',
      docsUrl: undefined,
      logLevel: 'info',
      devWarning: 'development only: plain HTTP (http://localhost:4000, http://localhost:4001) and a demo account with a stored password; not for production',
    })
  })

  it('reads every variable, ignoring other apps\' ones', () => {
    const config = loadConfig({
      MQTT_OIDC_DATA_DIR: '/var/lib/mqtt-oidc',
      MQTT_OIDC_STORE: 'postgres://mqtt:secret@db:5432/mqtt_oidc',
      MQTT_OIDC_IDP_ISSUER: 'https://id.example.com/',
      MQTT_OIDC_IDP_HOST: '0.0.0.0',
      MQTT_OIDC_IDP_PORT: '8443',
      MQTT_OIDC_IDP_EXCHANGE_URL: 'https://exchange.example.com',
      MQTT_OIDC_IDP_DEVICE_POLL_INTERVAL: '2',
      MQTT_OIDC_IDP_ID_TOKEN_TTL: '15m',
      MQTT_OIDC_IDP_DEMO_ACCOUNT: 'false',
      MQTT_OIDC_IDP_LOG_LEVEL: 'debug',
      MQTT_OIDC_IDP_TRUSTED_PROXIES: '2',
      MQTT_OIDC_IDP_DYNAMIC_REGISTRATION: 'true',
      MQTT_OIDC_IDP_ADMIN_GROUP: 'fleet-admins',
      MQTT_OIDC_IDP_DOCS_URL: 'https://docs.example.com/mqtt-oidc',
      MQTT_OIDC_EXCHANGE_PORT: '9999',
    })
    expect(config).toEqual({
      dataDir: '/var/lib/mqtt-oidc', store: 'postgres://mqtt:secret@db:5432/mqtt_oidc', issuer: 'https://id.example.com', host: '0.0.0.0', port: 8443,
      exchangeUrl: 'https://exchange.example.com', devicePollInterval: 2, idTokenTtl: 900, demoAccount: false,
      trustedProxies: 2, dynamicRegistration: true, adminGroup: 'fleet-admins', docsUrl: 'https://docs.example.com/mqtt-oidc', logLevel: 'debug', devWarning: undefined,
    })
  })

  it('lists every problem at once, including unknown MQTT_OIDC_IDP_ variables', () => {
    const err = (() => {
      try {
        loadConfig({ MQTT_OIDC_IDP_PROT: '4000', MQTT_OIDC_IDP_PORT: 'http', MQTT_OIDC_IDP_ID_TOKEN_TTL: '-1', MQTT_OIDC_IDP_ISSUER: 'ftp://x' })
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(ConfigError)
    const { problems } = err as ConfigError
    expect(problems).toHaveLength(4)
    expect(problems[0]).toMatch(/^MQTT_OIDC_IDP_PROT: unknown variable \(known: MQTT_OIDC_IDP_ISSUER, /)
    expect(problems.slice(1).map((p: string) => p.split(/:? /)[0]).sort()).toEqual(['MQTT_OIDC_IDP_ID_TOKEN_TTL', 'MQTT_OIDC_IDP_ISSUER', 'MQTT_OIDC_IDP_PORT'])
  })

  it('takes a postgres:// store URL (shared with the exchange) and refuses anything else', () => {
    expect(loadConfig({ MQTT_OIDC_STORE: 'postgresql://db/mqtt' }).store).toBe('postgresql://db/mqtt')
    expect(() => loadConfig({ MQTT_OIDC_STORE: 'sqlite:///tmp/x' })).toThrow(new ConfigError('idp', [
      'MQTT_OIDC_STORE must be a postgres:// URL (unset: the embedded SQLite store)',
    ]))
  })

  it('refuses plain HTTP and the demo account when NODE_ENV=production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', MQTT_OIDC_IDP_DEMO_ACCOUNT: 'true' })).toThrow(new ConfigError('idp', [
      'plain HTTP URLs are refused when NODE_ENV=production: http://localhost:4000, http://localhost:4001',
      'MQTT_OIDC_IDP_DEMO_ACCOUNT: the demo account is refused when NODE_ENV=production',
    ]))
    expect(loadConfig({ NODE_ENV: 'production', MQTT_OIDC_IDP_ISSUER: 'https://id.example.com', MQTT_OIDC_IDP_EXCHANGE_URL: 'https://x.example.com' }))
      .toMatchObject({ demoAccount: false, devWarning: undefined })
  })
})
