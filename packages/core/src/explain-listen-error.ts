import { PORT_BASE_VARIABLE } from './stack-ports.js'

/** A port a part listens on, and the variable that sets it. */
export interface PortSetting {
  readonly port: number
  /** E.g. `MQTT_OIDC_IDP_PORT`. */
  readonly variable: string
  /** True for the embedded stack's ports, which MQTT_OIDC_PORT_BASE moves too. */
  readonly stack?: boolean
  /** What listens there, for the message: `the IdP`, `the MQTT listener`. */
  readonly what: string
}

/** A listen that failed for a reason a setting fixes (the port is taken, or needs privileges), in words that name the setting. */
export class ListenError extends Error {
  readonly syscall = 'listen'
  constructor(
    message: string,
    readonly code: string,
    readonly port: number,
  ) {
    super(message)
    this.name = 'ListenError'
  }
}

const REASONS: Record<string, string> = {
  EADDRINUSE: 'is already in use (another mqtt-oidc, or another server?)',
  EACCES: 'needs privileges this process lacks (ports below 1024)',
}

/**
 * `err` as a ListenError that says which port and which variable moves it,
 * when it is a listen that failed on one of `settings`' ports (EADDRINUSE,
 * EACCES); anything else unchanged. runService prints it in one line.
 *
 * @example
 * try { await idp.listen() } catch (err) {
 *   throw explainListenError(err, [{ port: 4000, variable: 'MQTT_OIDC_IDP_PORT', stack: true, what: 'the IdP' }])
 * }
 * // port 4000 (127.0.0.1), for the IdP, is already in use (another mqtt-oidc, or another server?): set MQTT_OIDC_IDP_PORT, or MQTT_OIDC_PORT_BASE to move the whole stack
 */
export function explainListenError(err: unknown, settings: readonly PortSetting[]): unknown {
  const e = err as { code?: unknown; syscall?: unknown; port?: unknown; address?: unknown }
  if (!(err instanceof Error) || e.syscall !== 'listen' || typeof e.code !== 'string' || !(e.code in REASONS)) return err
  const setting = settings.find((s) => s.port === e.port)
  if (!setting) return err
  const where = typeof e.address === 'string' ? ` (${e.address})` : ''
  const moves = setting.stack ? `set ${setting.variable}, or ${PORT_BASE_VARIABLE} to move the whole stack` : `set ${setting.variable}`
  return new ListenError(`port ${setting.port}${where}, for ${setting.what}, ${REASONS[e.code]}: ${moves}`, e.code, setting.port)
}
