/** What a redacted value becomes (pino's own word for it). */
export const REDACTED = '[Redacted]'

/**
 * The one list of what never reaches a log, for every app. A field is
 * secret when its name, lowercased without `_`, `-` or `.`, is one of
 * SECRET_FIELD_NAMES, contains one of SECRET_FIELD_PARTS, or ends with one
 * of SECRET_FIELD_SUFFIXES (so `refresh_token`, `idToken`,
 * `subject_token`, `client_secret`, `hmacSecret`, `passwordHash`,
 * `x-api-key` are all covered), at any depth.
 */
export const SECRET_FIELD_NAMES: readonly string[] = Object.freeze([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'privatejwk',
  'privatekey',
  'apikey',
  'xapikey',
  'assertion',
  'clientassertion',
  'codeverifier',
  'devicecode',
  'feedcredential',
])
export const SECRET_FIELD_PARTS: readonly string[] = Object.freeze(['password', 'passwd', 'secret'])
// A suffix only: `token_type`, `tokens_issued` are not secrets.
export const SECRET_FIELD_SUFFIXES: readonly string[] = Object.freeze(['token'])

/**
 * Secrets inside text (a message, an error's message or stack, a URL): a
 * JWS/JWT, a revocation-feed credential, an HTTP credential after its
 * scheme, and token or secret parameters of a query or form.
 */
const SECRET_TEXT: ReadonlyArray<readonly [RegExp, string]> = [
  [/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, REDACTED],
  [/\bmqof_[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/\b(Bearer|Basic|DPoP)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  [/\b((?:access|id|refresh|subject|actor|device)_token|client_secret|password|code_verifier)=[^&\s"']+/gi, `$1=${REDACTED}`],
]

const normalize = (name: string): string => name.toLowerCase().replace(/[-_.]/g, '')

/** Whether a field of this name holds a secret (see SECRET_FIELD_NAMES). */
export function isSecretField(name: string): boolean {
  const n = normalize(name)
  return SECRET_FIELD_NAMES.includes(n) || SECRET_FIELD_PARTS.some((part) => n.includes(part)) || SECRET_FIELD_SUFFIXES.some((suffix) => n.endsWith(suffix))
}

/** `text` with every secret SECRET_TEXT finds replaced. */
export function redactText(text: string): string {
  let out = text
  // Cheap tests first: most log text holds none of these.
  if (!/eyJ|mqof_|bearer|basic|dpop|=/i.test(out)) return out
  for (const [pattern, replacement] of SECRET_TEXT) out = out.replace(pattern, replacement)
  return out
}

const MAX_DEPTH = 10

/**
 * A copy of `value` fit for a log line: secret fields (any depth, any
 * object) become `[Redacted]`, secrets inside strings are cut out, and an
 * Error becomes `{ type, message, stack, ...its own fields, cause }` treated
 * the same way. Values with a `toJSON` (Date, Buffer, URL) are kept as they
 * are; cycles and nesting deeper than 10 become markers.
 *
 * @example redactSecrets({ headers: { authorization: 'Bearer abc' }, body: 'subject_token=eyJ...' })
 */
export function redactSecrets(value: unknown): unknown {
  return walk(value, 0, new WeakSet())
}

function walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value)
  if (typeof value !== 'object' || value === null) return value
  if (seen.has(value)) return '[Circular]'
  if (depth >= MAX_DEPTH) return '[Nested too deep]'
  if (!(value instanceof Error) && typeof (value as { toJSON?: unknown }).toJSON === 'function') return value
  seen.add(value)
  try {
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1, seen))
    const source = value instanceof Error ? errorFields(value) : value
    const out: Record<string, unknown> = {}
    for (const [key, field] of Object.entries(source)) out[key] = isSecretField(key) ? REDACTED : walk(field, depth + 1, seen)
    return out
  } finally {
    seen.delete(value)
  }
}

/** An error's fields as pino's error serializer shows them, its cause included. */
function errorFields(err: Error): Record<string, unknown> {
  const own = Object.fromEntries(Object.entries(err))
  return {
    type: err.constructor?.name ?? err.name,
    message: err.message,
    stack: err.stack,
    ...own,
    ...(err.cause !== undefined ? { cause: err.cause } : {}),
  }
}
