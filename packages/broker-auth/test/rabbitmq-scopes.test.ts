import { describe, expect, it } from 'vitest'
import { rabbitmqScopes } from '../src/index.js'

describe('rabbitmqScopes: our ACL as RabbitMQ OAuth 2 scopes', () => {
  it('maps publish and subscribe filters to 3-part topic scopes plus the resource scopes MQTT needs', () => {
    expect(rabbitmqScopes({ pub: ['devices/${clientid}/#'], sub: ['news/+/today', '$SYS/#'] }, { clientid: 'c1' }, { resourceServerId: 'rabbitmq' })).toEqual([
      'rabbitmq.write:*/amq.topic',
      'rabbitmq.write:*/*/devices.c1.*',
      'rabbitmq.configure:*/mqtt-subscription-*',
      'rabbitmq.write:*/mqtt-subscription-*',
      'rabbitmq.read:*/mqtt-subscription-*',
      'rabbitmq.read:*/amq.topic',
      'rabbitmq.read:*/*/news.*.today',
    ])
  })

  it('swaps / and . as rabbitmq_mqtt does, and drops a filter whose placeholder cannot be filled', () => {
    expect(rabbitmqScopes({ pub: ['v1.0/${clientid}', 'u/${username}/#'], sub: [] }, { clientid: 'c1' }, { resourceServerId: 'rmq', vhost: 'iot' }))
      .toEqual(['rmq.write:iot/amq.topic', 'rmq.write:iot/*/v1/0.c1'])
  })

  it('an empty ACL still yields one scope (RabbitMQ cannot handle a token without any) that grants no topic', () => {
    expect(rabbitmqScopes({ pub: [], sub: [] }, { clientid: 'c1' }, { resourceServerId: 'rabbitmq' })).toEqual(['rabbitmq.read:*/mqtt-no-access'])
  })
})
