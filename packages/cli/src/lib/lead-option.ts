import { Option } from 'commander'
import type { Command } from 'commander'
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
