/**
 * A `typ` as compared (RFC 8725 §3.11, as jose does): lowercase, without an
 * `application/` prefix.
 *
 * @example normalizeTyp('Application/AT+JWT') // 'at+jwt'
 */
export function normalizeTyp(typ: string): string {
  const t = typ.toLowerCase()
  return t.startsWith('application/') ? t.slice('application/'.length) : t
}
