/** A one-line description of a thrown value for logs: message plus the cause's code (e.g. ECONNREFUSED). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined
  return detail ? `${err.name}: ${err.message} (${detail})` : `${err.name}: ${err.message}`
}
