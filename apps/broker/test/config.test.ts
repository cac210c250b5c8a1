import { describe, expect, it } from 'vitest'
import { BrokerConfigError, loadBrokerConfig } from '../src/index.js'

const problemsOf = (env: NodeJS.ProcessEnv): readonly string[] => {
  try {
    loadBrokerConfig(env)
  } catch (err) {
    if (err instanceof BrokerConfigError) return err.problems
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
      expect.stringMatching(/^MQTT_OIDC_BROKER_ID: /),
      expect.stringMatching(/^MQTT_OIDC_BROKER_EXCHANGE_URL: /),
      expect.stringMatching(/^MQTT_OIDC_BROKER_MQTT_PORT: /),
      'unknown variables MQTT_OIDC_BROKER_PROT, MQTT_OIDC_BROKER_HOSTNAME',
    ])
  })

  it('refuses plain HTTP exchange URLs when NODE_ENV=production', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['NODE_ENV=production refuses plain HTTP URLs: http://localhost:4001'])
    expect(problemsOf({ NODE_ENV: 'production', MQTT_OIDC_BROKER_EXCHANGE_URL: 'https://exchange.example' })).toEqual([])
  })
})
