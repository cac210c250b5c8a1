import { chmodSync, linkSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * Writes a secret (private key, client secret, token cache) atomically with
 * mode 0600, creating its directory with mode 0700 when missing.
 */
export function writeSecretFile(path: string, content: string): void {
  const tmp = writeTemporary(path, content)
  renameSync(tmp, path)
}

/**
 * Creates the secret file `path` (mode 0600) unless it exists, atomically
 * even across processes: of replicas starting together on one data
 * directory, exactly one creates it, whole, and the others see that it
 * exists. Returns whether this call created it; when it did not, the file
 * holds what another writer put there, to be read instead.
 */
export function writeSecretFileIfAbsent(path: string, content: string): boolean {
  const tmp = writeTemporary(path, content)
  try {
    // link(2) fails on an existing target, where rename(2) would replace it
    linkSync(tmp, path)
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    if (code === undefined || !NO_HARD_LINKS.has(code)) throw err
  } finally {
    unlinkSync(tmp)
  }
  // A volume without hard links (SMB shares, some FUSE mounts): an exclusive create, written in one call
  try {
    writeFileSync(path, content, { mode: 0o600, flag: 'wx' })
    chmodSync(path, 0o600)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
}

/** What link(2) fails with on a filesystem that has no hard links. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'])

/** `content` in a file of its own next to `path` (mode 0600), for a rename or link into place. */
function writeTemporary(path: string, content: string): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`
  writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' })
  chmodSync(tmp, 0o600)
  return tmp
}
