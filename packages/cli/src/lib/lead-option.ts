import { Option } from 'commander'
import type { Command } from 'commander'
import { MIN_SAFE_KEY_LEAD_SECONDS } from '@mqtt-oidc/jose'
import { CliError } from './cli-error.js'
import { writeLine } from './cli-io.js'
import type { CliIo } from './cli-io.js'
import { parseDurationSecondsOrZero } from './option-parsers.js'

/**
 * Adds `--lead <duration>` to a `keys rotate` command (IdP and exchange
 * alike), and the exchange's old spelling `--lead-time` as a hidden,
 * deprecated alias.
 */
export function addLeadOption(cmd: Command, defaultText: string): Command {
  return cmd
    .option('--lead <duration>', `how long the new key is published before it signs: 10m, 30s, seconds, or 0 to switch at once (one instance only); default ${defaultText}`, parseDurationSecondsOrZero)
    .addOption(new Option('--lead-time <duration>', 'deprecated: use --lead').argParser(parseDurationSecondsOrZero).hideHelp())
}

/** The lead the user gave (seconds), or undefined; says on stderr when the deprecated spelling or a risky value was used. */
export function readLead(opts: { lead?: number; leadTime?: number }, io: CliIo): number | undefined {
  if (opts.lead !== undefined && opts.leadTime !== undefined) throw new CliError('give --lead only (--lead-time is its deprecated spelling)')
  if (opts.leadTime !== undefined) writeLine(io.stderr, 'mqtt-oidc: --lead-time is deprecated; use --lead')
  const lead = opts.lead ?? opts.leadTime
  if (lead !== undefined && lead < MIN_SAFE_KEY_LEAD_SECONDS) {
    writeLine(io.stderr, `mqtt-oidc: warning: with a lead under ${MIN_SAFE_KEY_LEAD_SECONDS} s, a verifier may be shown a token before it can fetch its key (safe with a single instance)`)
  }
  return lead
}
