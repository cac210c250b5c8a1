import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { OAuthClientView } from '@mqtt-oidc/core'
import { runOnTerminal } from '@mqtt-oidc/test-support/run-on-terminal'
import { BIN } from './support/cli-bin.js'
import { runCliInProcess } from './support/run-cli-in-process.js'
import { startTestStack, type TestStack } from './support/start-test-stack.js'

// `mqtt-oidc clients ...` against a running IdP, authenticated as the admin
// client of the stack's data dir (as from a laptop: no database access).

let stack: TestStack
const cli = (args: string[]) => runCliInProcess(args, { dataDir: stack.dataDir, configDir: stack.configDir })
/** `mqtt-oidc <args>` on a pseudo-terminal, in UTC: what a person sees, stdout and stderr together. */
const onTerminal = (args: string[]) => runOnTerminal(BIN, args, { env: { MQTT_OIDC_DATA_DIR: stack.dataDir, TZ: 'UTC' } })
/** Epoch seconds as a table shows them in UTC. */
const utc = (s: number): string => `${new Date(s * 1000).toISOString().slice(0, 19).replace('T', ' ')} +00:00`

beforeAll(async () => { stack = await startTestStack() })
afterAll(async () => { await stack?.close() })

function json(r: { code: number; stdout: string; stderr: string }): Record<string, unknown> {
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as Record<string, unknown>
}

describe('mqtt-oidc clients', () => {
  it('add --native registers a public client that can sign in at once with the device flow', async () => {
    const r = await cli(['clients', 'add', 'oidc-agent', '--native', '--name', 'oidc-agent', '--redirect-uri', 'http://localhost', '--scope', 'openid offline_access mqtt'])
    expect(r.stderr).toBe('')
    expect(json(r)).toEqual({
      client_id: 'oidc-agent', client_name: 'oidc-agent', application_type: 'native', token_endpoint_auth_method: 'none',
      redirect_uris: ['http://localhost'], post_logout_redirect_uris: [],
      grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], response_types: ['code'],
      scope: 'openid offline_access mqtt', id_token_signed_response_alg: 'RS256', built_in: false, created_at: expect.any(Number), updated_at: expect.any(Number),
    })
    const res = await fetch(`${stack.idpUrl}/device/auth`, { method: 'POST', body: new URLSearchParams({ client_id: 'oidc-agent', scope: 'openid mqtt' }) })
    expect(((await res.json()) as { user_code: string }).user_code).toMatch(/^[A-Z]{4}-[A-Z]{4}-[A-Z]{4}$/)
  })

  it('add --web prints the secret once (a warning on stderr); show never does; the secret works', async () => {
    const r = await cli(['clients', 'add', 'dashboard', '--redirect-uri', 'https://dash.example/cb', '--auth-method', 'client_secret_post', '--grant-type', 'code'])
    expect(r.stderr).toBe('client_secret is shown only this once: store it now (the IdP keeps only its hash).\n')
    const created = json(r)
    expect(created).toMatchObject({ client_id: 'dashboard', application_type: 'web', token_endpoint_auth_method: 'client_secret_post', grant_types: ['authorization_code'] })
    const secret = created.client_secret as string
    expect(json(await cli(['clients', 'show', 'dashboard']))).not.toHaveProperty('client_secret')
    const introspect = async (clientSecret: string) => {
      const res = await fetch(`${stack.idpUrl}/token/introspection`, { method: 'POST', body: new URLSearchParams({ client_id: 'dashboard', client_secret: clientSecret, token: 'not-a-token' }) })
      return { status: res.status, body: await res.json() }
    }
    expect(await introspect(secret)).toEqual({ status: 200, body: { active: false } })

    expect(await cli(['clients', 'update', 'dashboard', '--rotate-secret', '--json'])).toEqual({
      code: 1, stdout: '', stderr: 'mqtt-oidc: clients update dashboard --rotate-secret changes things that cannot be undone: add --yes to confirm (not at a terminal, so not asked); nothing was changed\n',
    })
    const rotated = json(await cli(['clients', 'update', 'dashboard', '--rotate-secret', '--json', '--yes']))
    expect(rotated.client_secret).toEqual(expect.any(String))
    expect(await introspect(secret)).toMatchObject({ status: 401, body: { error: 'invalid_client' } })
    expect(await introspect(rotated.client_secret as string)).toEqual({ status: 200, body: { active: false } })
  })

  it('list shows built-in and registered clients; update changes only what is given; remove removes', async () => {
    const list = JSON.parse((await cli(['clients', 'list'])).stdout) as Array<{ client_id: string; built_in: boolean }>
    expect(list.map((c) => `${c.client_id}${c.built_in ? ' (built in)' : ''}`)).toEqual(['dashboard', 'mqtt-oidc-admin (built in)', 'mqtt-oidc-cli (built in)', 'mqtt-oidc-console (built in)', 'oidc-agent'])
    // At a terminal: a table, one client a line, built-in ones marked, grants by their short names.
    const table = await onTerminal(['clients', 'list'])
    expect(table.code).toBe(0)
    const full = JSON.parse((await cli(['clients', 'list'])).stdout) as Array<OAuthClientView>
    const short = (g: string): string => ({ authorization_code: 'code', refresh_token: 'refresh', 'urn:ietf:params:oauth:grant-type:device_code': 'device' })[g] ?? g
    expect(table.stdout.split('\n').map((l) => l.split(/ {2,}/))).toEqual([
      ['CLIENT ID', 'NAME', 'TYPE', 'AUTH', 'GRANTS', 'BUILT IN', 'CREATED'],
      ...full.map((c) => [c.client_id, c.client_name || '-', c.application_type, c.token_endpoint_auth_method, c.grant_types.map(short).join(','),
        c.built_in ? 'yes' : 'no', c.created_at === null ? '-' : utc(c.created_at)]),
      [''],
    ])
    const agent = full.find((c) => c.client_id === 'oidc-agent')!
    expect(table.stdout.split('\n').map((l) => l.split(/ {2,}/))).toContainEqual(['oidc-agent', 'oidc-agent', 'native', 'none', 'code,device,refresh', 'no', utc(agent.created_at!)])
    expect(JSON.parse((await onTerminal(['clients', 'list', '--json'])).stdout)).toEqual(full)

    // show: one field a line; the secret never.
    expect(await onTerminal(['clients', 'show', 'oidc-agent'])).toMatchObject({
      code: 0,
      stdout: [
        'FIELD                      VALUE',
        'client id                  oidc-agent',
        'name                       oidc-agent',
        'type                       native',
        'auth method                none',
        'grants                     code, device, refresh',
        'redirect uris              http://localhost',
        'post-logout redirect uris  -',
        'scope                      openid offline_access mqtt',
        'id token alg               RS256',
        'built in                   no',
        `created                    ${utc(agent.created_at!)}`,
        `updated                    ${utc(agent.updated_at!)}`,
        '',
      ].join('\n'),
    })

    const updated = json(await cli(['clients', 'update', 'oidc-agent', '--redirect-uri', 'http://127.0.0.1/callback', '--redirect-uri', 'http://localhost']))
    expect(updated).toMatchObject({ redirect_uris: ['http://127.0.0.1/callback', 'http://localhost'], scope: 'openid offline_access mqtt', client_name: 'oidc-agent' })
    // Not at a terminal, so nothing is asked: --yes is what confirms (see cli-confirm.test.ts).
    expect(await cli(['clients', 'remove', 'dashboard'])).toEqual({
      code: 1, stdout: '', stderr: 'mqtt-oidc: clients remove dashboard changes things that cannot be undone: add --yes to confirm (not at a terminal, so not asked); nothing was changed\n',
    })
    const removed = await cli(['clients', 'remove', 'dashboard', '--yes'])
    expect([removed.code, removed.stdout, removed.stderr]).toEqual([0, '', 'Removed client dashboard.\n'])
    expect(await cli(['clients', 'remove', 'dashboard', '--json', '--yes'])).toEqual({ code: 1, stdout: '', stderr: 'mqtt-oidc: admin API error: not_found (no client "dashboard")\n' })
  })

  it('says what is wrong, before or after asking the IdP', async () => {
    expect(await cli(['clients', 'add', 'x', '--grant-type', 'implicit'])).toMatchObject({
      code: 1, stderr: "mqtt-oidc: option '--grant-type <grant>' argument 'implicit' is invalid. use code, device or refresh (or authorization_code, urn:ietf:params:oauth:grant-type:device_code, refresh_token).\n",
    })
    expect(await cli(['clients', 'add', 'x', '--native', '--auth-method', 'client_secret_basic'])).toMatchObject({
      code: 1, stderr: 'mqtt-oidc: admin API error: invalid_request (token_endpoint_auth_method: a native app is a public client (none); it cannot keep a secret (RFC 8252 §8.5))\n',
    })
    expect(await cli(['clients', 'registration-token'])).toMatchObject({
      code: 1, stderr: 'mqtt-oidc: admin API error: invalid_request (dynamic client registration is off (MQTT_OIDC_IDP_DYNAMIC_REGISTRATION=true turns it on))\n',
    })
    expect(await cli(['clients', 'update', 'oidc-agent'])).toMatchObject({
      code: 1, stderr: 'mqtt-oidc: nothing to update: give --name, --redirect-uri, --grant-type, --scope, --auth-method, --id-token-alg, --native/--web or --rotate-secret (see --help)\n',
    })
  })
})
