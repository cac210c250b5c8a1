import { redactSecrets, redactText } from './redact-secrets.js'

/**
 * The pino options every app's logger is made with: each line's fields and
 * the logger's bindings (a child's too) pass through redactSecrets (the one
 * list of what never reaches a log), and so does the message. Errors are
 * serialized there too, so pino's own error serializer is replaced by one
 * that keeps the result.
 *
 * @example const logger = pino({ name: 'exchange', level: 'info', ...LOG_REDACTION })
 */
export const LOG_REDACTION = Object.freeze({
  formatters: Object.freeze({
    log: (fields: Record<string, unknown>): Record<string, unknown> => redactSecrets(fields) as Record<string, unknown>,
    bindings: (bindings: Record<string, unknown>): Record<string, unknown> => redactSecrets(bindings) as Record<string, unknown>,
  }),
  serializers: Object.freeze({
    // Already serialized and redacted by formatters.log.
    err: (err: unknown): unknown => err,
    msg: (msg: unknown): unknown => (typeof msg === 'string' ? redactText(msg) : msg),
  }),
  onChild: redactChildBindings,
})

/**
 * pino applies `formatters.bindings` to the root logger's bindings only; a
 * child's (`log.child({ ... })`) are written as given, once, into a string
 * the child keeps (its own property under pino's `pino.chindings` symbol:
 * `,"key":value,...`). This rewrites that string when it holds a secret.
 * Found by the symbol's description so core needs no pino of its own.
 */
function redactChildBindings(child: object): void {
  const symbol = Object.getOwnPropertySymbols(child).find((s) => s.description === 'pino.chindings')
  const chindings = symbol && (child as Record<symbol, unknown>)[symbol]
  if (typeof chindings !== 'string' || chindings.length < 2) return
  const given = `{${chindings.slice(1)}}`
  const clean = JSON.stringify(redactSecrets(JSON.parse(given)))
  if (clean !== given) (child as Record<symbol, unknown>)[symbol!] = `,${clean.slice(1, -1)}`
}
