// Node's (OpenSSL's) verification failures: the broker's certificate chain is
// not trusted by this client. Other TLS errors (a reset, a protocol
// mismatch) are network errors and stay as they are.
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/** The TLS verification code when `err` says the broker's certificate is not trusted, else undefined. */
export function untrustedCertificateReason(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined
  const code = (err as NodeJS.ErrnoException).code
  if (typeof code === 'string' && UNTRUSTED.has(code)) return code
  // mqtt.js's own check after the handshake (a TLS stack that did not verify).
  return err.message === 'TLS not authorized' ? 'TLS not authorized' : undefined
}
