import { execFileSync } from 'node:child_process'
import { chmodSync } from 'node:fs'

/**
 * Writes a self-signed P-256 certificate for localhost and 127.0.0.1, valid
 * for a day, with its key (mode 0600): what a test's TLS listener serves.
 *
 * @example writeSelfSignedCert(join(dir, 'key.pem'), join(dir, 'cert.pem'))
 */
export function writeSelfSignedCert(keyFile: string, certFile: string): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'pipe' },
  )
  chmodSync(keyFile, 0o600)
}
