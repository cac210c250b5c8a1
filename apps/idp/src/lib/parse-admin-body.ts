import type { z } from 'zod'
import { InvalidRequest } from '@mqtt-oidc/core'

/** An admin API request's JSON body through its schema; every problem is listed in one InvalidRequest. */
export function parseAdminBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body ?? {})
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map((i) =>
    i.path.length > 0 && !i.message.startsWith(String(i.path[0])) ? `${i.path.join('.')}: ${i.message}` : i.message,
  )
  throw new InvalidRequest(problems.join('; '))
}
