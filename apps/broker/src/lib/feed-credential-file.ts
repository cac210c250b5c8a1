import { readFileSync, statSync } from 'node:fs'
import type { LogFn } from '@mqtt-oidc/broker-auth'

/**
 * The broker's feed credential from a file, read anew each time the
 * follower asks (before each feed request: a rotated credential needs no
 * restart). A missing or empty file gives no credential; the exchange then
 * answers 401 and the follower says so. A file others may read is used, and
 * reported once: secrets are files of mode 0600.
 */
export function feedCredentialReader(path: string, log: LogFn): () => string | undefined {
  let warnedMode = false
  let warnedMissing = false
  return () => {
    try {
      const mode = statSync(path).mode & 0o777
      if ((mode & 0o077) !== 0 && !warnedMode) {
        warnedMode = true
        log('warn', 'the feed credential file is readable by others: chmod 600 it', { path, mode: mode.toString(8) })
      }
      const credential = readFileSync(path, 'utf8').trim()
      warnedMissing = false
      return credential === '' ? undefined : credential
    } catch (err) {
      if (!warnedMissing) {
        warnedMissing = true
        log('error', 'cannot read the feed credential file', { path, err: (err as Error).message })
      }
      return undefined
    }
  }
}
