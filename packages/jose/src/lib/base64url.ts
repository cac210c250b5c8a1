const ALPHABET = /^[A-Za-z0-9_-]*$/

/**
 * Whether `segment` is unpadded base64url (RFC 7515 §2): only the URL-safe
 * alphabet, and no dangling character (a length of 4n+1 encodes no bytes;
 * Node's decoder would silently drop it).
 */
export function isBase64url(segment: string): boolean {
  return segment.length % 4 !== 1 && ALPHABET.test(segment)
}
