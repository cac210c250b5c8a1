import { readFileSync } from 'node:fs'
import type { ConsoleClient } from './console-options.js'

/**
 * The console's client credentials from `console-client.json` (the IdP
 * writes it, mode 0600, next to admin-client.json), read anew on every use
 * (sign-ins and token refreshes, a few a minute): a new secret needs no
 * restart, and an exchange started before the IdP finds the file once it is there.
 */
export function readConsoleClient(path: string): () => ConsoleClient | undefined {
  return () => {
    try {
      const file = JSON.parse(readFileSync(path, 'utf8')) as { clientId?: unknown; clientSecret?: unknown }
      return typeof file.clientId === 'string' && typeof file.clientSecret === 'string' && file.clientSecret.length >= 32
        ? { clientId: file.clientId, clientSecret: file.clientSecret }
        : undefined
    } catch {
      return undefined
    }
  }
}
