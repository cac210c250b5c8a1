import type { z } from 'zod'

/**
 * Reads an app's settings from `env` with its zod schema (keys are the
 * variable names). Every problem is collected at once: a variable with the
 * app's `prefix` that the schema does not know, and every schema issue
 * (`MQTT_OIDC_IDP_PORT must be a whole number from 0 to 65535, got "abc"`).
 * Empty values count as unset. Returns the parsed settings, or the problems.
 *
 * @example const { data, problems } = readEnvironment(envSchema, 'MQTT_OIDC_IDP_', process.env)
 */
export function readEnvironment<S extends z.ZodObject>(schema: S, prefix: string, env: NodeJS.ProcessEnv):
  { data: z.infer<S>; problems: [] } | { data: undefined; problems: string[] } {
  const known = new Set(Object.keys(schema.shape))
  const problems = Object.keys(env)
    .filter((name) => name.startsWith(prefix) && !known.has(name))
    .map((name) => `${name}: unknown variable (known: ${[...known].filter((k) => k.startsWith(prefix)).join(', ')})`)
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([name, v]) => known.has(name) && v !== '')))
  // `NAME must be a whole number ...` reads as a sentence; any other message follows a colon.
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${i.path.join('.')}${i.message.startsWith('must ') ? ' ' : ': '}${i.message}`))
  if (!parsed.success || problems.length > 0) return { data: undefined, problems }
  return { data: parsed.data as z.infer<S>, problems: [] }
}
