import { describe, expect, it } from 'vitest'
import { rabbitmqScopes } from '../src/index.js'

describe('rabbitmqScopes: our ACL as RabbitMQ OAuth 2 scopes', () => {
  it('maps publish and subscribe filters to 3-part topic scopes plus the resource scopes MQTT needs', () => {
    expect(rabbitmqScopes({ pub: ['devices/${clientid}/#'], sub: ['news/+/today', '$SYS/#'] }, { clientid: 'c1' }, { resourceServerId: 'rabbitmq' })).toEqual([
      'rabbitmq.write:*/amq.topic',
      'rabbitmq.write:*/*/devices.c1.*',
      'rabbitmq.configure:*/mqtt-subscription-c1qos0',
      'rabbitmq.write:*/mqtt-subscription-c1qos0',
      'rabbitmq.read:*/mqtt-subscription-c1qos0',
      'rabbitmq.configure:*/mqtt-subscription-c1qos1',
      'rabbitmq.write:*/mqtt-subscription-c1qos1',
      'rabbitmq.read:*/mqtt-subscription-c1qos1',
      'rabbitmq.read:*/amq.topic',
      'rabbitmq.read:*/*/news.*.today',
    ])
  })

  it('swaps / and . as rabbitmq_mqtt does, and drops a filter whose placeholder cannot be filled', () => {
    expect(rabbitmqScopes({ pub: ['v1.0/${clientid}', 'u/${username}/#'], sub: [] }, { clientid: 'c1' }, { resourceServerId: 'rmq', vhost: 'iot' })).toEqual([
      'rmq.write:iot/amq.topic',
      'rmq.write:iot/*/v1/0.c1',
    ])
  })

  // RabbitMQ never compares the MQTT client id with the token: only the queues named after the
  // token's own client id keep another client's subscriptions and queued messages out of reach.
  it("grants the subscription queues of the token's client id only, and none for an id that would be a wildcard", () => {
    const queues = (clientid: string) =>
      rabbitmqScopes({ pub: [], sub: ['a/#'] }, { clientid }, { resourceServerId: 'rabbitmq' }).filter((s) => s.includes('mqtt-subscription'))
    expect(queues('r1qos')).toEqual([
      'rabbitmq.configure:*/mqtt-subscription-r1qosqos0',
      'rabbitmq.write:*/mqtt-subscription-r1qosqos0',
      'rabbitmq.read:*/mqtt-subscription-r1qosqos0',
      'rabbitmq.configure:*/mqtt-subscription-r1qosqos1',
      'rabbitmq.write:*/mqtt-subscription-r1qosqos1',
      'rabbitmq.read:*/mqtt-subscription-r1qosqos1',
    ])
    expect(queues('gw*')).toEqual([])
  })

  it('an empty ACL still yields one scope (RabbitMQ cannot handle a token without any) that grants no topic', () => {
    expect(rabbitmqScopes({ pub: [], sub: [] }, { clientid: 'c1' }, { resourceServerId: 'rabbitmq' })).toEqual(['rabbitmq.read:*/mqtt-no-access'])
  })
})
