/** The one variable that moves every port of the embedded stack (`npm start`, and the CLI's defaults with it). */
export const PORT_BASE_VARIABLE = 'MQTT_OIDC_PORT_BASE'

/** Where each part listens, relative to MQTT_OIDC_PORT_BASE (`tls` only with a certificate, `emqxHook` only for EMQX). */
export const STACK_PORT_OFFSETS = Object.freeze({ idp: 0, exchange: 1, mqtt: 2, ws: 3, tls: 4, emqxHook: 5 })

/** The ports without MQTT_OIDC_PORT_BASE: the usual ones for OIDC development servers and MQTT. */
export const DEFAULT_STACK_PORTS = Object.freeze({ idp: 4000, exchange: 4001, mqtt: 1883, ws: 8083, tls: 8883, emqxHook: 8991 })

/** The largest base: its last offset is still a port. */
export const PORT_BASE_MAX = 65535 - Math.max(...Object.values(STACK_PORT_OFFSETS))

export type StackPorts = { readonly [part in keyof typeof STACK_PORT_OFFSETS]: number }

/** Where each part's URL points by default: the other parts of the same stack, on this machine. */
export interface StackUrls {
  /** The IdP's issuer, `http://localhost:<idp>`. */
  readonly idp: string
  /** The exchange, `http://localhost:<exchange>`. */
  readonly exchange: string
  /** The broker, `mqtt://localhost:<mqtt>`. */
  readonly mqtt: string
}

/**
 * Each part's port: `base` plus its offset (STACK_PORT_OFFSETS), or the
 * usual ports (DEFAULT_STACK_PORTS) without a base. A part's own port
 * variable still wins over either; the apps apply that.
 *
 * @example stackPorts(5000) // { idp: 5000, exchange: 5001, mqtt: 5002, ws: 5003, tls: 5004, emqxHook: 5005 }
 */
export function stackPorts(base: number | undefined): StackPorts {
  if (base === undefined) return DEFAULT_STACK_PORTS
  const entries = Object.entries(STACK_PORT_OFFSETS).map(([part, offset]) => [part, base + offset])
  return Object.freeze(Object.fromEntries(entries)) as StackPorts
}

/** The URLs the parts reach each other at by default, on `ports`. */
export function stackUrls(ports: StackPorts): StackUrls {
  return { idp: `http://localhost:${ports.idp}`, exchange: `http://localhost:${ports.exchange}`, mqtt: `mqtt://localhost:${ports.mqtt}` }
}
