/** `{clientid}` in --topic: the MQTT client id the login got (the broker token's `sub`). */
export const CLIENTID = '{clientid}'
export const DEFAULT_TOPIC = `devices/${CLIENTID}/telemetry`

export interface GatewayOptions {
  broker: string
  topic: string
  every: number
  qos: 0 | 1 | 2
  count?: number
  url?: string
  cafile?: string
  statusFile?: string
  login: boolean
  qr: boolean
  json?: boolean
}
