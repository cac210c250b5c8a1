import { MIN_SAFE_KEY_LEAD_SECONDS } from '@mqtt-oidc/jose'
import { CliError } from './cli-error.js'
import { writeLine } from './cli-io.js'
import type { CliIo } from './cli-io.js'

/** The lead the user gave (seconds), or undefined; says on stderr when the deprecated spelling or a risky value was used. */
export function readLead(opts: { lead?: number; leadTime?: number }, io: CliIo): number | undefined {
  if (opts.lead !== undefined && opts.leadTime !== undefined) throw new CliError('give --lead only (--lead-time is its deprecated spelling)')
  if (opts.leadTime !== undefined) writeLine(io.stderr, 'mqtt-oidc: --lead-time is deprecated; use --lead')
  const lead = opts.lead ?? opts.leadTime
  if (lead !== undefined && lead < MIN_SAFE_KEY_LEAD_SECONDS) {
    writeLine(
      io.stderr,
      `mqtt-oidc: warning: with a lead under ${MIN_SAFE_KEY_LEAD_SECONDS} s, a verifier may be shown a token before it can fetch its key (safe with a single instance)`,
    )
  }
  return lead
}
