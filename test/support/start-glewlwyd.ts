/**
 * Glewlwyd (Debian's `glewlwyd`: an OAuth 2 / OpenID Connect server in C,
 * nobody here wrote it) set up from nothing by the test: its config file, a
 * SQLite database made from the package's own schema, the OIDC plugin with
 * an RSA key generated here, a user and a public client, on a free port.
 * Missing binaries or a server that does not start make the test FAIL.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CookieJar } from '@mqtt-oidc/test-support/cookie-jar'
import { freePort } from '@mqtt-oidc/test-support/free-port'
import { until } from '@mqtt-oidc/test-support/until'

const GLEWLWYD = '/usr/bin/glewlwyd'
const SCHEMA = '/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3'
const MODULES = '/usr/lib/glewlwyd'
const PYTHON = '/usr/bin/python3'
/** The administrator the package's schema creates (its documented default password). */
const ADMIN = { username: 'admin', password: 'password' }

export interface GlewlwydUser {
  readonly username: string
  readonly password: string
  readonly email: string
  readonly name: string
}
export interface GlewlwydClient {
  readonly clientId: string
  readonly redirectUris: readonly string[]
}

export interface TestGlewlwyd {
  /** The OIDC issuer (`iss`, and where /.well-known/openid-configuration is). */
  readonly issuer: string
  readonly user: GlewlwydUser
  readonly client: GlewlwydClient
  /**
   * The person at the browser for a device authorization: signs in to
   * Glewlwyd with their password, consents to the client's scopes, and enters
   * the user code on Glewlwyd's device page (the same API calls its own
   * login page makes). Resolves when Glewlwyd says the device is approved.
   */
  approveDevice(userCode: string, scope: string): Promise<void>
  /** Glewlwyd's log so far (for failure messages). */
  log(): string
  close(): Promise<void>
}

export async function startGlewlwyd(options: { user: GlewlwydUser; client: GlewlwydClient }): Promise<TestGlewlwyd> {
  for (const path of [GLEWLWYD, SCHEMA, PYTHON]) {
    if (!existsSync(path)) throw new Error(`${path} not found: apt-get install -y glewlwyd python3 (scripts/ensure-test-deps.mjs does this)`)
  }
  const dir = mkdtempSync(join(tmpdir(), 'glewlwyd-'))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const issuer = `${base}/api/oidc`
  const database = join(dir, 'glewlwyd.db')
  const logFile = join(dir, 'glewlwyd.log')
  // The package's schema, as its dbconfig-common install would load it.
  execFileSync(PYTHON, ['-c', 'import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.executescript(open(sys.argv[2]).read()); db.commit()', database, SCHEMA])
  writeFileSync(join(dir, 'glewlwyd.conf'), config(port, base, database))

  let child: ChildProcess | undefined = spawn(GLEWLWYD, ['-c', join(dir, 'glewlwyd.conf'), '-m', 'file', '-f', logFile, '-l', 'INFO'], { stdio: 'ignore' })
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '')
  const stop = async (): Promise<void> => {
    if (!child || exited) return
    const done = new Promise((resolve) => child?.once('exit', resolve))
    child.kill('SIGTERM')
    await done
    child = undefined
  }
  try {
    await until(async () => {
      if (exited) throw new Error(`glewlwyd exited at start: ${log()}`)
      return fetch(`${base}/api/`).then(
        () => true,
        () => false,
      )
    }, 15_000)
    const admin = await signIn(base, ADMIN.username, ADMIN.password)
    await setUp(base, admin, issuer, options)
  } catch (err) {
    await stop()
    rmSync(dir, { recursive: true, force: true })
    throw err
  }

  return {
    issuer,
    user: options.user,
    client: options.client,
    async approveDevice(userCode, scope) {
      const person = await signIn(base, options.user.username, options.user.password)
      await person.send('PUT', `/api/auth/grant/${encodeURIComponent(options.client.clientId)}`, { scope })
      const res = await person.fetch(`/api/oidc/device?code=${encodeURIComponent(userCode)}&g_continue`)
      const location = res.headers.get('location') ?? ''
      if (res.status !== 302 || !location.includes('prompt=deviceComplete')) throw new Error(`glewlwyd did not approve the device: ${res.status} ${location}`)
    },
    log,
    async close() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

interface Session {
  fetch(path: string, init?: RequestInit): Promise<Response>
  /** A JSON request that must succeed (2xx). */
  send(method: string, path: string, body: unknown): Promise<void>
}

/** Signs in to Glewlwyd's auth API with a password (what its login page does); the session is a cookie. */
async function signIn(base: string, username: string, password: string): Promise<Session> {
  const jar = new CookieJar()
  const session: Session = {
    async fetch(path, init = {}) {
      const url = new URL(path, base)
      const headers = new Headers(init.headers)
      const cookie = jar.header(url)
      if (cookie) headers.set('cookie', cookie)
      const res = await fetch(url, { ...init, headers, redirect: 'manual' })
      jar.store(url, res.headers.getSetCookie())
      return res
    },
    async send(method, path, body) {
      const res = await session.fetch(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      if (!res.ok) throw new Error(`glewlwyd ${method} ${path}: ${res.status} ${await res.text()}`)
    },
  }
  await session.send('POST', '/api/auth/', { username, password })
  return session
}

/** The OIDC plugin (RS256 key made here, device flow on, email in the ID token), the user and the client. */
async function setUp(base: string, admin: Session, issuer: string, options: { user: GlewlwydUser; client: GlewlwydClient }): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  await admin.send('POST', '/api/mod/plugin/', {
    module: 'oidc',
    name: 'oidc',
    display_name: 'OpenID Connect',
    enabled: true,
    parameters: {
      iss: issuer,
      'jwt-type': 'rsa',
      'jwt-key-size': '256',
      key: privateKey.export({ type: 'pkcs1', format: 'pem' }),
      cert: publicKey.export({ type: 'spki', format: 'pem' }),
      'jwks-show': true,
      'access-token-duration': 3600,
      'refresh-token-duration': 1209600,
      'code-duration': 600,
      'refresh-token-rolling': true,
      'allow-non-oidc': false,
      'auth-type-code-enabled': true,
      'auth-type-token-enabled': false,
      'auth-type-id-token-enabled': false,
      'auth-type-none-enabled': false,
      'auth-type-password-enabled': false,
      'auth-type-client-enabled': false,
      'auth-type-device-enabled': true,
      'auth-type-refresh-enabled': true,
      'device-authorization-expiration': 600,
      'device-authorization-interval': 1,
      'pkce-allowed': true,
      'pkce-method-plain-allowed': false,
      'email-claim': 'mandatory',
      'name-claim': 'mandatory',
      // The login name as preferred_username (OIDC Core §5.1), from the user's own property.
      claims: [{ name: 'preferred_username', 'user-property': 'username', type: 'string', mandatory: true, 'on-demand': false, scopes: [] }],
      'allowed-scope': ['openid'],
      scope: [],
      'additional-parameters': [],
    },
  })
  await admin.send('POST', '/api/user/', {
    username: options.user.username,
    password: options.user.password,
    name: options.user.name,
    email: options.user.email,
    scope: ['openid'],
    enabled: true,
  })
  await admin.send('POST', '/api/client/', {
    client_id: options.client.clientId,
    name: 'mqtt-oidc gateway',
    confidential: false,
    enabled: true,
    redirect_uri: [...options.client.redirectUris],
    authorization_type: ['code', 'device_authorization', 'refresh_token'],
    token_endpoint_auth_method: ['none'],
  })
}

function config(port: number, base: string, database: string): string {
  return `
port=${port}
bind_address="127.0.0.1"
external_url="${base}"
login_url="login.html"
api_prefix="api"
cookie_secure=0
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="${MODULES}/user"
client_module_path="${MODULES}/client"
user_auth_scheme_module_path="${MODULES}/scheme"
plugin_module_path="${MODULES}/plugin"
use_secure_connection=false
# Read even with use_secure_connection=false; nothing is loaded from them.
secure_connection_key_file="/nonexistent.key"
secure_connection_pem_file="/nonexistent.pem"
hash_algorithm="SHA512"
database = { type = "sqlite3"; path = "${database}"; };
`
}
