/**
 * An app's configuration is invalid: every problem at once, one line each,
 * in one shape for every app (`<app>: invalid configuration: <problem>`).
 * runService prints the message and exits with code 2.
 *
 * @example throw new ConfigError('broker', ['MQTT_OIDC_BROKER_MQTT_PORT must be a whole number from 0 to 65535, got "eighty"'])
 */
export class ConfigError extends Error {
  constructor(
    readonly app: string,
    readonly problems: readonly string[],
  ) {
    super(problems.map((problem) => `${app}: invalid configuration: ${problem}`).join('\n'))
    this.name = 'ConfigError'
  }
}
