import { html, raw, type Html, type Page } from './html.js'

/** What each scope means, in words a person can judge before approving. */
const SCOPE_DESCRIPTIONS: Readonly<Record<string, string>> = Object.freeze({
  openid: 'Know who you are (your account id)',
  mqtt: 'Your MQTT client id and username',
  offline_access: 'Stay signed in on that device (refresh tokens)',
  groups: 'The groups your account belongs to',
  'mqtt-oidc:admin': 'Administer brokers, credentials, revocations and live sessions',
})

/** Said for every failed login: it never tells whether the account exists. */
export const LOGIN_FAILED_MESSAGE = 'Incorrect username or password.'

/** Said only after the account's right password, so a guesser learns nothing from it. */
export const ACCOUNT_DISABLED_MESSAGE = 'This account is disabled. Ask an administrator to enable it.'

/** The `autofocus` attribute (the first field a person has to fill in gets the cursor). */
const autofocus = (on: boolean): Html => (on ? raw(' autofocus') : raw(''))

const hidden = (name: string, value: string): Html => html`<input type="hidden" name="${name}" value="${value}">`

export function loginPage(input: { uid: string; csrf: string; clientName: string; username?: string; error?: string }): Page {
  const invalid = input.error ? raw(' aria-invalid="true" aria-describedby="login-error"') : ''
  // The cursor goes where typing starts: the username, or the password once the username is there.
  const usernameGiven = (input.username ?? '') !== ''
  return {
    name: 'login',
    title: 'Sign in',
    body: html`<p>Sign in to continue to <strong>${input.clientName}</strong>.</p>
${input.error ? html`<p class="error" id="login-error" role="alert">${input.error}</p>` : ''}
<form method="post" action="/interaction/${input.uid}/login">
${hidden('csrf', input.csrf)}
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required${autofocus(!usernameGiven)} value="${input.username ?? ''}"${invalid}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${autofocus(usernameGiven)}${invalid}>
<button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${input.uid}/abort">
${hidden('csrf', input.csrf)}
<button type="submit" class="secondary">Cancel</button>
</form>`,
  }
}

export function consentPage(input: { uid: string; csrf: string; clientName: string; username: string; scopes: readonly string[] }): Page {
  const items = input.scopes.map((scope) => html`<li>${SCOPE_DESCRIPTIONS[scope] ?? scope}</li>`)
  return {
    name: 'consent',
    title: 'Allow access?',
    body: html`<p><strong>${input.clientName}</strong> asks for access to your account <strong>${input.username}</strong>:</p>
<ul>${items}</ul>
<form method="post" action="/interaction/${input.uid}/consent">
${hidden('csrf', input.csrf)}
<button type="submit">Allow</button>
</form>
<form method="post" action="/interaction/${input.uid}/abort">
${hidden('csrf', input.csrf)}
<button type="submit" class="secondary">Deny</button>
</form>`,
  }
}

export function deviceCodeInputPage(input: { action: string; xsrf: string; userCode?: string; error?: string }): Page {
  const invalid = input.error ? raw(' aria-invalid="true" aria-describedby="code-error"') : ''
  return {
    name: 'device-code',
    title: 'Connect a device',
    body: html`<p>Enter the code shown on your device.</p>
${input.error ? html`<p class="error" id="code-error" role="alert">${input.error}</p>` : ''}
<form method="post" action="${input.action}">
${hidden('xsrf', input.xsrf)}
<label for="user_code">Code</label>
<input id="user_code" name="user_code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus value="${input.userCode ?? ''}"${invalid}>
<button type="submit">Continue</button>
</form>`,
  }
}

export function deviceConfirmPage(input: { action: string; xsrf: string; userCode: string; clientName: string; deviceName?: string }): Page {
  const asks = input.deviceName
    ? html`Sign in the device <strong>${input.deviceName}</strong> (${input.clientName}) with this code?`
    : html`Sign in the device <strong>${input.clientName}</strong> with this code?`
  return {
    name: 'device-confirm',
    title: input.deviceName ? `Sign in the device '${input.deviceName}'?` : 'Sign in the device?',
    body: html`<p>${asks}</p>
<p class="code">${input.userCode}</p>
<p class="muted">Only continue if your device shows exactly this code. If you did not start this, cancel.</p>
<form method="post" action="${input.action}">
${hidden('xsrf', input.xsrf)}${hidden('user_code', input.userCode)}${hidden('confirm', 'yes')}
<button type="submit">Yes, sign in the device</button>
</form>
<form method="post" action="${input.action}">
${hidden('xsrf', input.xsrf)}${hidden('user_code', input.userCode)}${hidden('abort', 'yes')}
<button type="submit" class="secondary">No, cancel</button>
</form>`,
  }
}

/** `clientId`: the MQTT client id the device's ID token carries, when it asked for one (scope `mqtt`). */
export function deviceSuccessPage(input: { clientName: string; clientId?: string | undefined }): Page {
  const next = input.clientId === undefined
    ? html`You can close this page and return to your device.`
    : html`It connects to MQTT with the client id <code>${input.clientId}</code>.`
  return {
    name: 'device-success',
    title: 'Device signed in',
    body: html`<p><strong>${input.clientName}</strong> is now signed in. ${next}</p>`,
  }
}

/**
 * The IdP's root page: what this service is and where to go from here (a
 * person who opened the issuer URL, an admin looking for the console).
 */
export function homePage(input: { consoleUrl: string; docsUrl?: string | undefined }): Page {
  return {
    name: 'home',
    title: 'Sign-in service',
    body: html`<p>This is the sign-in service of mqtt-oidc, which gives people and devices short-lived credentials for MQTT brokers.</p>
<ul>
<li><a href="/device">Connect a device</a>: enter the code your device shows.</li>
<li><a href="${input.consoleUrl}">Administration console</a>: brokers, credentials, revocations and live sessions (for administrators).</li>
<li><a href="/.well-known/openid-configuration">OpenID Connect discovery</a>: for developers connecting an app.</li>
${input.docsUrl ? html`<li><a href="${input.docsUrl}">Documentation</a></li>
` : ''}</ul>
<p class="muted">Sign in from a terminal with <code>mqtt-oidc login --device</code> or <code>mqtt-oidc login --browser</code>.</p>`,
  }
}

export function deviceDeniedPage(): Page {
  return {
    name: 'device-denied',
    title: 'Device not signed in',
    body: html`<p>The sign-in was cancelled; the device was not signed in. You can close this page.</p>`,
  }
}

export function errorPage(input: { title?: string; message: string; code?: string }): Page {
  return {
    name: 'error',
    title: input.title ?? 'Sign-in failed',
    body: html`<p>${input.message}</p>
${input.code ? html`<p class="muted">Error code: <code>${input.code}</code></p>` : ''}`,
  }
}

export function logoutPage(input: { form: string; host: string }): Page {
  return {
    name: 'logout',
    title: 'Sign out?',
    body: html`<p>Do you want to sign out of ${input.host}?</p>
${raw(input.form)}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
<button type="submit" form="op.logoutForm" class="secondary">Stay signed in</button>`,
  }
}

export function loggedOutPage(): Page {
  return { name: 'logged-out', title: 'Signed out', body: html`<p>You are signed out. You can close this page.</p>` }
}
