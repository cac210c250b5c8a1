import { Option, type Command } from 'commander'
import { CliError } from './cli-error.js'
import { parseMqttVersion } from './option-parsers.js'

/**
 * `--mqtt-version` of pub and sub. `-V` was its short form until it became
 * `--version`; it is kept, hidden, only to say so.
 */
export function addMqttVersionOption(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--mqtt-version <version>', 'MQTT protocol version: 3.1.1 (also 311 or 4) or 5; the embedded aedes broker speaks 3.1.1 only')
        .argParser(parseMqttVersion)
        .default(4, '3.1.1'),
    )
    .addOption(
      new Option('-V <version>').hideHelp().argParser(() => {
        throw new CliError('-V is --version now: give the MQTT version as --mqtt-version 3.1.1 or --mqtt-version 5')
      }),
    )
}
