import { html } from '@mqtt-oidc/core'
import type { ConsolePage } from './console-page.js'

/** Not signed in: what the console is, and the way in. */
export function signInPage(returnTo: string, reason?: string): ConsolePage {
  return {
    name: 'sign-in',
    title: 'Sign in',
    status: 401,
    body: html`${reason ? html`<p class="notice" role="status">${reason}</p>` : ''}
      <p>
        The console shows your brokers, their credentials and live sessions, and lets you issue and revoke credentials. It is for accounts in the admin group.
      </p>
      <p><a class="button" href="/console/login?return=${encodeURIComponent(returnTo)}">Sign in</a></p>`,
  }
}

/** Signed in, but not an admin: who they are and what would change that. */
export function notAdminPage(username: string): ConsolePage {
  return {
    name: 'not-admin',
    title: 'Not an administrator',
    status: 403,
    body: html`<p role="alert">
        You signed in as <strong>${username}</strong>, an account that may not administer brokers: the console is for accounts in the identity provider's admin
        group.
      </p>
      <p>
        An administrator can add you to it (<code>mqtt-oidc users add &lt;name&gt; --group mqtt-oidc-admins</code>, or the group set in
        <code>MQTT_OIDC_IDP_ADMIN_GROUP</code>); then sign in again.
      </p>
      <p><a class="button" href="/console/login?prompt=login">Sign in as someone else</a></p>`,
  }
}

export function signedOutPage(): ConsolePage {
  return {
    name: 'signed-out',
    title: 'Signed out',
    body: html`<p>You are signed out of the console.</p>
      <p><a class="button" href="/console/login">Sign in again</a></p>`,
  }
}

/** The console cannot work here yet: what is missing, and how to provide it. */
export function notSetUpPage(why: string): ConsolePage {
  return {
    name: 'not-set-up',
    title: 'The console is not set up',
    status: 503,
    body: html`<p role="alert">${why}</p>
      <p>
        The identity provider writes the console's client credentials to <code>console-client.json</code> in its data directory; the exchange reads that file
        (<code>MQTT_OIDC_EXCHANGE_CONSOLE_CLIENT_FILE</code>).
      </p>`,
  }
}

export function errorPage(title: string, message: string, status: number, back?: string): ConsolePage {
  return {
    name: 'error',
    title,
    status,
    body: html`<p role="alert">${message}</p>
      ${back ? html`<p><a href="${back}">Back</a></p>` : html`<p><a href="/console">Back to the brokers</a></p>`}`,
  }
}
