import { ulid } from 'ulid'

/** A new ULID: unique, sortable by creation time. Used for `jti` and generated client ids. */
export function createId(): string {
  return ulid()
}
