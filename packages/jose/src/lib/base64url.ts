/**
 * Decodes one unpadded base64url segment (RFC 7515 §2), or undefined when it
 * is not one: a character outside the URL-safe alphabet (padding, `+`, `/`,
 * whitespace, anything else) or a dangling character (4n+1 long).
 *
 * Node's decoder skips what it cannot read (and takes `+` and `/` too), so a
 * skipped character shows as a shorter result: checking the length is exact
 * and several times cheaper than a regular expression over the segment,
 * which matters on the broker's hot path (a ~350-character payload).
 */
export function decodeBase64url(segment: string): Buffer | undefined {
  const n = segment.length
  if (n % 4 === 1 || segment.indexOf('+') !== -1 || segment.indexOf('/') !== -1) return undefined
  const bytes = Buffer.from(segment, 'base64url')
  return bytes.length === Math.floor((n * 3) / 4) ? bytes : undefined
}
