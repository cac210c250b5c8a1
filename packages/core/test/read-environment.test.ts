import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { readEnvironment } from '../src/read-environment.js'
import { envSchemas } from '../src/env-schemas.js'

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

describe('readEnvironment with the shared field schemas', () => {
  const shared = z.object({
    APP_X_PORT: envSchemas.port().default(80),
    APP_X_DEBUG: envSchemas.flag().optional(),
    APP_X_STORE: envSchemas.storeUrl().optional(),
  })

  it('names the variable, says what it must be and shows what it got', () => {
    expect(readEnvironment(shared, 'APP_X_', { APP_X_PORT: 'abc' }).problems).toEqual(['APP_X_PORT must be a whole number from 0 to 65535, got "abc"'])
    expect(readEnvironment(shared, 'APP_X_', { APP_X_PORT: '70000', APP_X_DEBUG: 'yes' }).problems).toEqual([
      'APP_X_PORT must be a whole number from 0 to 65535, got "70000"',
      'APP_X_DEBUG must be true or false, got "yes"',
    ])
    expect(readEnvironment(shared, 'APP_X_', { APP_X_PORT: 'x'.repeat(100) }).problems).toEqual([
      `APP_X_PORT must be a whole number from 0 to 65535, got "${'x'.repeat(40)}..."`,
    ])
  })

  it('never shows the value of a variable that may hold a secret (a URL with a password)', () => {
    expect(readEnvironment(shared, 'APP_X_', { APP_X_STORE: 'mysql://admin:hunter2@db/x' }).problems).toEqual([
      'APP_X_STORE must be a postgres:// URL (unset: the embedded SQLite store)',
    ])
  })
})
