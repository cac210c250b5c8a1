import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { readEnvironment } from '../src/read-environment.js'

const schema = z.object({ APP_X_PORT: z.coerce.number().int().default(80), OTHER_SHARED: z.string().optional() })

describe('readEnvironment', () => {
  it('reads known variables, treats empty values as unset, and ignores other prefixes', () => {
    expect(readEnvironment(schema, 'APP_X_', { APP_X_PORT: '', APP_Y_THING: '1', PATH: '/bin' })).toEqual({ data: { APP_X_PORT: 80 }, problems: [] })
    expect(readEnvironment(schema, 'APP_X_', { APP_X_PORT: '8080', OTHER_SHARED: 's' }).data).toEqual({ APP_X_PORT: 8080, OTHER_SHARED: 's' })
  })

  it('lists every problem at once: unknown prefixed variables and schema issues', () => {
    expect(readEnvironment(schema, 'APP_X_', { APP_X_PROT: '1', APP_X_PORT: 'abc' })).toEqual({
      data: undefined,
      problems: ['APP_X_PROT: unknown variable (known: APP_X_PORT)', expect.stringMatching(/^APP_X_PORT: /)],
    })
  })
})
