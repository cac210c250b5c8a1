import { writeJson, writeLine, type CliIo } from './cli-io.js'
import { localTime, wantsJson, writeTable } from './output.js'
import type { OutFile } from './reserve-out-file.js'

/**
 * The issued credentials.
 * - In a pipe: the Cloudflare map `{"<clientid>": "<token>"}`, as always.
 * - With --json: each client id's token with its jti, nbf and exp (epoch
 *   seconds, null when absent), so revoking never means decoding a JWT.
 * - At a terminal: a table (client id, jti, not before, expires), then one
 *   `<clientid> <token>` line each: the person asked for credentials that
 *   are shown only once, and one they cannot see is one they cannot use.
 * - With --out: the --json map goes to the file (0600) and the tokens stay
 *   off the terminal and out of its scrollback: the table at a terminal, else
 *   `{"file", "credentials": {"<clientid>": {jti, notBefore, expiresAt}}}`.
 */
export async function writeIssued(io: CliIo, issued: Record<string, string>, opts: { json?: boolean }, out?: OutFile): Promise<void> {
  if (!opts.json && out === undefined && wantsJson(opts, io)) return writeJson(io.stdout, issued)
  const { decodeJwtPayload } = await import('@mqtt-oidc/jose')
  const rows = Object.entries(issued).map(([clientId, token]) => {
    const claims = decodeJwtPayload(token, 'the issued token')
    const num = (v: unknown): number | null => (typeof v === 'number' ? v : null)
    return { clientId, token, jti: String(claims.jti), notBefore: num(claims.nbf), expiresAt: num(claims.exp) }
  })
  const detailed = Object.fromEntries(rows.map(({ clientId, ...rest }) => [clientId, rest]))
  if (out !== undefined) {
    out.write(`${JSON.stringify(detailed, null, 2)}\n`)
    if (wantsJson(opts, io)) {
      return writeJson(io.stdout, { file: out.path, credentials: Object.fromEntries(rows.map(({ clientId, token: _token, ...rest }) => [clientId, rest])) })
    }
  } else if (opts.json) return writeJson(io.stdout, detailed)
  writeTable(
    io.stdout,
    ['CLIENT ID', 'JTI', 'NOT BEFORE', 'EXPIRES'],
    rows.map((r) => [r.clientId, r.jti, localTime(r.notBefore), localTime(r.expiresAt) ?? 'never']),
  )
  if (out !== undefined) {
    const n = rows.length
    return writeLine(
      io.stderr,
      `Wrote the token${n === 1 ? '' : 's'} of ${n} credential${n === 1 ? '' : 's'} to ${out.path} (mode 0600). Each token is the MQTT password of its client id.`,
    )
  }
  writeLine(io.stdout, '')
  for (const r of rows) writeLine(io.stdout, `${r.clientId} ${r.token}`)
  writeLine(
    io.stderr,
    'Each token is the MQTT password of its client id (username: the client id, or empty). It is shown only now (--out <file> writes the tokens to a file instead).',
  )
}
