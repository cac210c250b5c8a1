import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '@mqtt-oidc/core'
import { loadConfig } from '../src/config.js'

describe('loadConfig (MQTT_OIDC_EXCHANGE_* environment)', () => {
  it('works with no configuration at all', () => {
    expect(loadConfig({})).toEqual({
      dataDir: resolve('./.data'),
      store: undefined,
      issuer: 'http://localhost:4001',
      host: '127.0.0.1',
      port: 4001,
      idp: { issuer: 'http://localhost:4000', jwksUri: undefined, clientIds: ['mqtt-oidc-cli'] },
      trustedIssuers: [],
      maxSubjectTokenAge: 86400,
      keyLeadTime: 600,
      maxLifetime: 3600,
      defaultCredentialLifetime: 604800,
      demoBrokerUrl: 'mqtt://localhost:1883',
      bootstrapBrokers: [],
      subjectRateLimit: { requests: 20, windowSeconds: 60 },
      adminIssueRateLimit: { requests: 1000, windowSeconds: 60 },
      maxLiveAdminCredentials: 100000,
      feedCredentialDir: resolve('./.data/feed-credentials'),
      maxFeedStreams: 10_000,
      maxFeedStreamsPerBroker: 16,
      console: { clientFile: resolve('./.data/console-client.json'), idpFetchFrom: undefined, sessionSeconds: 28800, idleSeconds: 3600 },
      sessionHeartbeatSeconds: 15,
      maxReportingNodes: 64,
      maxReportedSessions: 1_000_000,
      logLevel: 'info',
      devWarning: 'development only: plain HTTP issuers (http://localhost:4001, http://localhost:4000); use https in production',
    })
  })

  it('reads the console\'s and the session reports\' settings, and turns the console off', () => {
    expect(loadConfig({
      MQTT_OIDC_DATA_DIR: '/data', MQTT_OIDC_EXCHANGE_CONSOLE_SESSION_TTL: '12h', MQTT_OIDC_EXCHANGE_CONSOLE_IDLE_TIMEOUT: '20m',
      MQTT_OIDC_EXCHANGE_IDP_FETCH_FROM: 'http://idp:4000', MQTT_OIDC_EXCHANGE_SESSION_HEARTBEAT: '30s',
      MQTT_OIDC_EXCHANGE_MAX_REPORTING_NODES: '8', MQTT_OIDC_EXCHANGE_MAX_REPORTED_SESSIONS: '5000',
    })).toMatchObject({
      console: { clientFile: '/data/console-client.json', idpFetchFrom: 'http://idp:4000', sessionSeconds: 43200, idleSeconds: 1200 },
      sessionHeartbeatSeconds: 30, maxReportingNodes: 8, maxReportedSessions: 5000,
    })
    expect(loadConfig({ MQTT_OIDC_EXCHANGE_CONSOLE: 'false' }).console).toBeUndefined()
    expect(loadConfig({ MQTT_OIDC_EXCHANGE_CONSOLE_CLIENT_FILE: '/secrets/console.json' }).console?.clientFile).toBe('/secrets/console.json')
  })

  it('reads the limits as <n>/<window> (or "none"), the live-credential quota as a count (or "none"), and refuses anything else', () => {
    expect(loadConfig({
      MQTT_OIDC_EXCHANGE_SUBJECT_RATE_LIMIT: '5/30s',
      MQTT_OIDC_EXCHANGE_ADMIN_ISSUE_RATE_LIMIT: 'none',
      MQTT_OIDC_EXCHANGE_MAX_LIVE_ADMIN_CREDENTIALS: '500',
    })).toMatchObject({ subjectRateLimit: { requests: 5, windowSeconds: 30 }, adminIssueRateLimit: null, maxLiveAdminCredentials: 500 })
    expect(loadConfig({ MQTT_OIDC_EXCHANGE_SUBJECT_RATE_LIMIT: 'none', MQTT_OIDC_EXCHANGE_MAX_LIVE_ADMIN_CREDENTIALS: 'none' }))
      .toMatchObject({ subjectRateLimit: null, maxLiveAdminCredentials: null })
    expect(() => loadConfig({
      MQTT_OIDC_EXCHANGE_SUBJECT_RATE_LIMIT: '0/1m', MQTT_OIDC_EXCHANGE_ADMIN_ISSUE_RATE_LIMIT: '10', MQTT_OIDC_EXCHANGE_MAX_LIVE_ADMIN_CREDENTIALS: '-1',
    })).toThrow(new ConfigError('exchange', [
      'MQTT_OIDC_EXCHANGE_SUBJECT_RATE_LIMIT must be <requests>/<window> such as 20/1m (requests 1 or more, window 1s..1d), or none, got "0/1m"',
      'MQTT_OIDC_EXCHANGE_ADMIN_ISSUE_RATE_LIMIT must be <requests>/<window> such as 20/1m (requests 1 or more, window 1s..1d), or none, got "10"',
      'MQTT_OIDC_EXCHANGE_MAX_LIVE_ADMIN_CREDENTIALS must be a whole number of credentials (1 or more), or none, got "-1"',
    ]))
  })

  it('reads the revocation feed settings: where bootstrapped brokers\' credentials go, and the stream caps', () => {
    expect(loadConfig({
      MQTT_OIDC_DATA_DIR: '/var/lib/mqtt-oidc', MQTT_OIDC_EXCHANGE_FEED_MAX_STREAMS: '500', MQTT_OIDC_EXCHANGE_FEED_MAX_STREAMS_PER_BROKER: '4',
    })).toMatchObject({ feedCredentialDir: '/var/lib/mqtt-oidc/feed-credentials', maxFeedStreams: 500, maxFeedStreamsPerBroker: 4 })
    expect(loadConfig({ MQTT_OIDC_EXCHANGE_FEED_CREDENTIAL_DIR: '/run/feed' }).feedCredentialDir).toBe('/run/feed')
    expect(() => loadConfig({ MQTT_OIDC_EXCHANGE_FEED_MAX_STREAMS_PER_BROKER: '0' })).toThrow(/MQTT_OIDC_EXCHANGE_FEED_MAX_STREAMS_PER_BROKER/)
  })

  it('reads brokers to create on start as id=url pairs, and refuses malformed ones', () => {
    expect(loadConfig({ MQTT_OIDC_EXCHANGE_BOOTSTRAP_BROKERS: 'emqx=mqtt://localhost:1884, plant-7=mqtt://p7:1883' }).bootstrapBrokers)
      .toEqual([{ id: 'emqx', url: 'mqtt://localhost:1884' }, { id: 'plant-7', url: 'mqtt://p7:1883' }])
    expect(() => loadConfig({ MQTT_OIDC_EXCHANGE_BOOTSTRAP_BROKERS: 'EMQX=x,nourl=' })).toThrow(/"EMQX=x" is not id=url[\s\S]*"nourl=" is not id=url/)
  })

  it('reads every setting', () => {
    const config = loadConfig({
      MQTT_OIDC_DATA_DIR: '/tmp/x',
      MQTT_OIDC_STORE: 'postgres://mqtt:secret@db:5432/mqtt_oidc',
      MQTT_OIDC_EXCHANGE_ISSUER: 'https://ex.example/',
      MQTT_OIDC_EXCHANGE_PORT: '8443',
      MQTT_OIDC_EXCHANGE_IDP_ISSUER: 'https://idp.example',
      MQTT_OIDC_EXCHANGE_IDP_CLIENT_IDS: 'cli, web',
      MQTT_OIDC_EXCHANGE_MAX_LIFETIME: '15m',
      MQTT_OIDC_EXCHANGE_DEFAULT_CREDENTIAL_LIFETIME: '30d',
      MQTT_OIDC_IDP_PORT: '4000',
    })
    expect(config).toMatchObject({
      dataDir: '/tmp/x', store: 'postgres://mqtt:secret@db:5432/mqtt_oidc', issuer: 'https://ex.example', port: 8443,
      idp: { issuer: 'https://idp.example', clientIds: ['cli', 'web'] }, maxLifetime: 900, defaultCredentialLifetime: 2592000, devWarning: undefined,
    })
  })

  it('lists every problem at once, unknown variables included', () => {
    let error: unknown
    try {
      loadConfig({ MQTT_OIDC_EXCHANGE_PROT: '1', MQTT_OIDC_EXCHANGE_PORT: 'abc', MQTT_OIDC_EXCHANGE_MAX_LIFETIME: '-1' })
    } catch (err) { error = err }
    expect(error).toBeInstanceOf(ConfigError)
    const problems = (error as ConfigError).problems
    expect(problems).toHaveLength(3)
    expect(problems[0]).toMatch(/^MQTT_OIDC_EXCHANGE_PROT: unknown variable \(known: MQTT_OIDC_EXCHANGE_ISSUER, /)
    expect(problems[1]).toMatch(/^MQTT_OIDC_EXCHANGE_PORT must /)
    expect(problems[2]).toBe('MQTT_OIDC_EXCHANGE_MAX_LIFETIME must be a duration such as 1h (-1 is not allowed here)')
  })

  it('reads trusted issuers as JSON and lists each problem in them', () => {
    const config = loadConfig({
      MQTT_OIDC_EXCHANGE_TRUSTED_ISSUERS: JSON.stringify([{ issuer: 'https://login.example', clientIds: ['gw'], clientIdClaim: 'device_id' }]),
      MQTT_OIDC_EXCHANGE_MAX_SUBJECT_TOKEN_AGE: '2h',
    })
    expect([config.trustedIssuers, config.maxSubjectTokenAge]).toEqual([[{ issuer: 'https://login.example', clientIds: ['gw'], clientIdClaim: 'device_id' }], 7200])
    expect(() => loadConfig({ MQTT_OIDC_EXCHANGE_TRUSTED_ISSUERS: '[{"issuer":"ftp://x","clientIds":[],"extra":1}]' })).toThrow(ConfigError)
    expect(() => loadConfig({ MQTT_OIDC_EXCHANGE_TRUSTED_ISSUERS: 'not json' })).toThrow(/MQTT_OIDC_EXCHANGE_TRUSTED_ISSUERS must be a JSON array/)
  })

  it('reads a trusted issuer\'s claim mapping: fallback username claims, JSON pointers, a client id prefix', () => {
    const mapping = {
      issuer: 'https://kc.example/realms/plant', clientIds: ['mqtt-gateway'], clientIdClaim: 'sub', clientIdPrefix: 'kc-',
      usernameClaim: ['preferred_username', 'email'], groupsClaim: '/realm_access/roles',
    }
    expect(loadConfig({ MQTT_OIDC_EXCHANGE_TRUSTED_ISSUERS: JSON.stringify([mapping]) }).trustedIssuers).toEqual([mapping])
    let error: unknown
    try {
      loadConfig({ MQTT_OIDC_EXCHANGE_TRUSTED_ISSUERS: JSON.stringify([{ ...mapping, groupsClaim: '/realm_access/~2', usernameClaim: [], clientIdPrefix: 'a/b' }]) })
    } catch (err) { error = err }
    expect((error as ConfigError).problems).toEqual([
      'MQTT_OIDC_EXCHANGE_TRUSTED_ISSUERS: [0.clientIdPrefix] must not contain spaces, "/", "+" or "#" (it becomes part of an MQTT client id)',
      'MQTT_OIDC_EXCHANGE_TRUSTED_ISSUERS: [0.usernameClaim] Too small: expected array to have >=1 items',
      'MQTT_OIDC_EXCHANGE_TRUSTED_ISSUERS: [0.groupsClaim] a claim name, or a JSON pointer (RFC 6901) such as /realm_access/roles',
    ])
  })

  it('takes a postgres:// store URL (shared with the IdP) and refuses anything else', () => {
    expect(loadConfig({ MQTT_OIDC_STORE: 'postgresql://db/mqtt' }).store).toBe('postgresql://db/mqtt')
    expect(loadConfig({ MQTT_OIDC_STORE: '' }).store).toBeUndefined()
    expect(() => loadConfig({ MQTT_OIDC_STORE: 'mysql://db/x' })).toThrow(new ConfigError('exchange', [
      'MQTT_OIDC_STORE must be a postgres:// URL (unset: the embedded SQLite store)',
    ]))
  })

  it('refuses plain HTTP issuers in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError)
  })
})
