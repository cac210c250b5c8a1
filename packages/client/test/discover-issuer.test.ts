import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { discoverIssuer } from '../src/discover-issuer.js'
import { startMiniOidc } from '@mqtt-oidc/test-support/mini-oidc'

const WELL_KNOWN = 'GET /.well-known/openid-configuration'
let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-discovery-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('discoverIssuer with a cache dir', () => {
  it('uses a young cached copy without a request, re-discovers an old one, and falls back to it while the IdP is down', async () => {
    const idp = await startMiniOidc()
    const cacheDir = join(dir, 'cache-1')
    const first = await discoverIssuer(idp.issuer, 'mqtt-oidc-cli', { cacheDir })
    expect(idp.hitCount(WELL_KNOWN)).toBe(1)
    expect(statSync(join(cacheDir, 'discovery.json')).mode & 0o777).toBe(0o600)

    const cached = await discoverIssuer(idp.issuer, 'mqtt-oidc-cli', { cacheDir })
    expect(idp.hitCount(WELL_KNOWN)).toBe(1)
    expect(cached.serverMetadata()).toEqual(first.serverMetadata())
    expect(cached.clientMetadata().client_id).toBe('mqtt-oidc-cli')

    await discoverIssuer(idp.issuer, 'mqtt-oidc-cli', { cacheDir, cacheMaxAgeSeconds: 0 })
    expect(idp.hitCount(WELL_KNOWN)).toBe(2)

    await idp.close()
    const fallback = await discoverIssuer(idp.issuer, 'mqtt-oidc-cli', { cacheDir, cacheMaxAgeSeconds: 0 })
    expect(fallback.serverMetadata().token_endpoint).toBe(first.serverMetadata().token_endpoint)
    await expect(discoverIssuer(idp.issuer, 'mqtt-oidc-cli', { cacheDir: join(dir, 'empty') })).rejects.toThrow()
  })
})
