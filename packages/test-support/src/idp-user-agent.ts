/**
 * A scripted browser for the IdP's pages: plain fetch, a small cookie jar,
 * and HTML forms parsed out of the served markup. It really GETs each page
 * and POSTs each form (action and hidden inputs as served), so tests go
 * through the same login, consent and device pages a person would.
 *
 * Pages are recognised by `<main data-page="...">` (login, consent,
 * device-code, device-confirm, device-success, device-denied, error, ...);
 * a page without it is one of oidc-provider's own (its auto-submit form).
 */
import { CookieJar } from './cookie-jar.js'

export { CookieJar }

/** One HTML form as served: where it posts and what it would send. */
export interface HtmlForm {
  readonly action: string
  readonly method: 'GET' | 'POST'
  /** Successful controls in document order (hidden, text, password, checked boxes). */
  readonly fields: ReadonlyArray<readonly [string, string]>
}

export interface BrowserPage {
  readonly url: string
  readonly status: number
  readonly headers: Headers
  readonly html: string
  /** `data-page` of `<main>`, when the page is one of ours. */
  readonly name: string | undefined
  readonly forms: readonly HtmlForm[]
  /** Text of the page's `role="alert"` element (form errors), if any. */
  readonly alert: string | undefined
}

/** Navigation ended in a redirect away from the IdP (e.g. to the client's redirect_uri). */
export interface ExternalRedirect {
  readonly redirectedTo: string
}

/** The scripted login could not go on; `page` is where it stopped. */
export class ScriptedLoginError extends Error {
  constructor(
    message: string,
    readonly page: BrowserPage,
  ) {
    super(`${message} (page ${page.name ?? 'unnamed'} at ${page.url}, status ${page.status}${page.alert ? `, alert "${page.alert}"` : ''})`)
    this.name = 'ScriptedLoginError'
  }
}

const MAX_REDIRECTS = 20

/** A browser session: one cookie jar, navigation with redirects, form submission. */
export class ScriptedBrowser {
  /** `headers` go with every request (e.g. the X-Forwarded-For a reverse proxy adds). */
  constructor(
    readonly jar: CookieJar = new CookieJar(),
    readonly headers: Readonly<Record<string, string>> = {},
  ) {}

  /** GET `url`, following redirects that stay on its origin. */
  get(url: string | URL): Promise<BrowserPage | ExternalRedirect> {
    return this.#navigate(new URL(url), { method: 'GET' })
  }

  /** Submits `form` as a browser would, with `values` replacing or adding fields. */
  submit(form: HtmlForm, values: Record<string, string> = {}): Promise<BrowserPage | ExternalRedirect> {
    const body = new URLSearchParams()
    const pending = new Map(Object.entries(values))
    for (const [name, value] of form.fields) {
      body.append(name, pending.has(name) ? (pending.get(name) ?? '') : value)
      pending.delete(name)
    }
    for (const [name, value] of pending) body.append(name, value)
    if (form.method === 'GET') {
      const target = new URL(form.action)
      target.search = body.toString()
      return this.#navigate(target, { method: 'GET' })
    }
    return this.#navigate(new URL(form.action), { method: 'POST', body })
  }

  async #navigate(start: URL, init: { method: string; body?: URLSearchParams }): Promise<BrowserPage | ExternalRedirect> {
    const origin = start.origin
    let url = start
    let request = init
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers = new Headers({ ...this.headers, accept: 'text/html' })
      const cookie = this.jar.header(url)
      if (cookie) headers.set('cookie', cookie)
      if (request.body) headers.set('content-type', 'application/x-www-form-urlencoded')
      const response = await fetch(url, { method: request.method, headers, body: request.body?.toString(), redirect: 'manual' })
      this.jar.store(url, response.headers.getSetCookie())
      const location = response.headers.get('location')
      if (response.status >= 300 && response.status < 400 && location) {
        await response.arrayBuffer()
        const next = new URL(location, url)
        if (next.origin !== origin) return { redirectedTo: next.href }
        if (response.status !== 307 && response.status !== 308) request = { method: 'GET' }
        url = next
        continue
      }
      return parsePage(url.href, response.status, response.headers, await response.text())
    }
    throw new Error(`more than ${MAX_REDIRECTS} redirects from ${start.href}`)
  }
}

/** Parses a served HTML page into what the scripted browser needs. */
export function parsePage(url: string, status: number, headers: Headers, html: string): BrowserPage {
  const name = /<main\b[^>]*\bdata-page="([^"]*)"/i.exec(html)?.[1]
  const alertMatch = /<(\w+)\b[^>]*\brole="alert"[^>]*>([\s\S]*?)<\/\1>/i.exec(html)
  return {
    url,
    status,
    headers,
    html,
    name: name === undefined ? undefined : decodeEntities(name),
    forms: parseForms(html, url),
    alert: alertMatch ? decodeEntities(alertMatch[2]?.replace(/<[^>]*>/g, '').trim() ?? '') : undefined,
  }
}

function parseForms(html: string, pageUrl: string): HtmlForm[] {
  const forms: HtmlForm[] = []
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = parseAttributes(match[1] ?? '')
    const fields: Array<[string, string]> = []
    for (const input of (match[2] ?? '').matchAll(/<input\b([^>]*)>/gi)) {
      const a = parseAttributes(input[1] ?? '')
      const type = (a.get('type') ?? 'text').toLowerCase()
      const fieldName = a.get('name')
      if (!fieldName || a.has('disabled') || ['submit', 'button', 'image', 'reset', 'file'].includes(type)) continue
      if ((type === 'checkbox' || type === 'radio') && !a.has('checked')) continue
      fields.push([fieldName, a.get('value') ?? (type === 'checkbox' || type === 'radio' ? 'on' : '')])
    }
    const method = (attrs.get('method') ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET'
    forms.push({ action: new URL(attrs.get('action') || pageUrl, pageUrl).href, method, fields })
  }
  return forms
}

function parseAttributes(source: string): Map<string, string> {
  const attributes = new Map<string, string>()
  for (const m of source.matchAll(/([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    attributes.set((m[1] ?? '').toLowerCase(), decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''))
  }
  return attributes
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) => {
    const lower = entity.toLowerCase()
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16))
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10))
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[lower] ?? _
  })
}

function isPage(result: BrowserPage | ExternalRedirect): result is BrowserPage {
  return !('redirectedTo' in result)
}

function hasField(form: HtmlForm, name: string): boolean {
  return form.fields.some(([field]) => field === name)
}

function requireForm(page: BrowserPage, what: string, predicate: (form: HtmlForm) => boolean): HtmlForm {
  const form = page.forms.find(predicate)
  if (!form) throw new ScriptedLoginError(`no ${what} form`, page)
  return form
}

export interface Credentials {
  readonly username: string
  readonly password: string
}

/** Where a person says no: on "Sign in the device?" (before login) or on the consent page. */
export type DenyAt = 'device' | 'consent'

export interface DeviceLoginOptions extends Partial<Credentials> {
  /** The device authorization response's `verification_uri_complete` (code pre-filled)... */
  readonly verificationUriComplete?: string
  /** ...or its `verification_uri` plus `userCode`, typed into the code page. */
  readonly verificationUri?: string
  readonly userCode?: string
  /** Approve (default) or deny the device. */
  readonly approve?: boolean
  /** Where to deny when `approve` is false. Default 'consent'. */
  readonly denyAt?: DenyAt
  /** Reuse a browser (its IdP session); default a fresh one. */
  readonly browser?: ScriptedBrowser
  /** Called with every page on the way (to inspect what a person would see). */
  readonly onPage?: (page: BrowserPage) => void
}

/**
 * Plays the person at the browser for a device authorization: opens the
 * verification URL, enters or confirms the code, signs in, answers consent.
 * Resolves with the final page (`device-success` or `device-denied`);
 * throws `ScriptedLoginError` when a login is refused or an error page shows.
 *
 * @example
 * const page = await completeDeviceLogin({ verificationUriComplete: da.verification_uri_complete, username, password })
 */
export async function completeDeviceLogin(options: DeviceLoginOptions): Promise<BrowserPage> {
  const browser = options.browser ?? new ScriptedBrowser()
  const approve = options.approve ?? true
  const denyAt = options.denyAt ?? 'consent'
  const start = options.verificationUriComplete ?? options.verificationUri
  if (!start) throw new TypeError('verificationUriComplete or verificationUri is required')

  let result = await browser.get(start)
  let submittedCredentials = false
  for (let step = 0; step < 12; step++) {
    if (!isPage(result)) throw new Error(`unexpected redirect away from the IdP to ${result.redirectedTo}`)
    const page = result
    options.onPage?.(page)
    switch (page.name) {
      case 'device-success':
      case 'device-denied':
        return page
      case undefined: // oidc-provider's auto-submit form (verification_uri_complete)
        if (page.forms.length !== 1 || !page.forms[0]) throw new ScriptedLoginError('unexpected page', page)
        result = await browser.submit(page.forms[0])
        break
      case 'device-code':
        if (page.alert || !options.userCode) throw new ScriptedLoginError('the device code was not accepted', page)
        result = await browser.submit(
          requireForm(page, 'device code', (f) => hasField(f, 'user_code')),
          { user_code: options.userCode },
        )
        break
      case 'device-confirm': {
        const choice = approve || denyAt === 'consent' ? 'confirm' : 'abort'
        result = await browser.submit(requireForm(page, `device ${choice}`, (f) => hasField(f, choice)))
        break
      }
      case 'login':
        result = await signIn(browser, page, options, submittedCredentials)
        submittedCredentials = true
        break
      case 'consent':
        result = await answerConsent(browser, page, approve)
        break
      default:
        throw new ScriptedLoginError('the device login stopped', page)
    }
  }
  throw new Error('the device login did not finish within 12 steps')
}

async function signIn(
  browser: ScriptedBrowser,
  page: BrowserPage,
  credentials: Partial<Credentials>,
  alreadyTried: boolean,
): Promise<BrowserPage | ExternalRedirect> {
  if (alreadyTried || page.alert) throw new ScriptedLoginError('login refused', page)
  if (credentials.username === undefined || credentials.password === undefined)
    throw new ScriptedLoginError('a login is required but no credentials were given', page)
  const form = requireForm(page, 'login', (f) => hasField(f, 'password'))
  return browser.submit(form, { username: credentials.username, password: credentials.password })
}

function answerConsent(browser: ScriptedBrowser, page: BrowserPage, approve: boolean): Promise<BrowserPage | ExternalRedirect> {
  const suffix = approve ? '/consent' : '/abort'
  return browser.submit(requireForm(page, approve ? 'consent' : 'deny', (f) => new URL(f.action).pathname.endsWith(suffix)))
}

export interface AuthCodeLoginOptions extends Credentials {
  /** Approve (default) or deny on the consent page. */
  readonly approve?: boolean
  readonly browser?: ScriptedBrowser
  /** Called with the consent page's list items (what the client asks for), each time one is shown. */
  readonly onConsent?: ((items: string[]) => void) | undefined
}

/**
 * Plays the person at the browser for an authorization request: signs in,
 * answers consent, and stops at the redirect back to the client, returning
 * that URL (with `code` and `state`, or `error`). Nothing listens there.
 */
export async function completeAuthCodeLogin(authorizationUrl: string | URL, options: AuthCodeLoginOptions): Promise<URL> {
  const browser = options.browser ?? new ScriptedBrowser()
  let result = await browser.get(authorizationUrl)
  let submittedCredentials = false
  for (let step = 0; step < 8; step++) {
    if (!isPage(result)) return new URL(result.redirectedTo)
    const page = result
    if (page.name === 'login') {
      result = await signIn(browser, page, options, submittedCredentials)
      submittedCredentials = true
    } else if (page.name === 'consent') {
      options.onConsent?.([...page.html.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => decodeEntities(m[1] ?? '')))
      result = await answerConsent(browser, page, options.approve ?? true)
    } else {
      throw new ScriptedLoginError('the authorization stopped', page)
    }
  }
  throw new Error('the authorization did not finish within 8 steps')
}
