import { createHash, randomBytes } from 'node:crypto'
import type { Response } from 'express'
import { escapeHtml, html, type Html } from '@mqtt-oidc/core'
import { CONSOLE_CSS } from './console-css.js'
import { CONSOLE_JS } from './console-js.js'

/** One console page: its body, and what the frame around it needs. */
export interface ConsolePage {
  /** `data-page` of `<main>`: names the page for tests and people reading the source. */
  readonly name: string
  readonly title: string
  readonly body: Html
  /** HTTP status. Default 200. */
  readonly status?: number
}

/** Who is signed in (the header shows them and a sign-out button), and the page's CSRF token. */
export interface SignedIn {
  readonly username: string
  readonly csrf: string
}

const version = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 12)

/** The assets' paths carry their content hash: cached for good, never stale. */
export const ASSETS: Readonly<Record<string, { readonly type: string; readonly body: string }>> = Object.freeze({
  [`console-${version(CONSOLE_CSS)}.css`]: { type: 'text/css; charset=utf-8', body: CONSOLE_CSS },
  [`console-${version(CONSOLE_JS)}.js`]: { type: 'text/javascript; charset=utf-8', body: CONSOLE_JS },
})
const [CSS_FILE, JS_FILE] = Object.keys(ASSETS) as [string, string]

/**
 * The Content-Security-Policy of every console page: nothing but this
 * response's stylesheet and script (by nonce), requests to this origin only
 * (the live sessions feed, revocations), forms to this origin (and the
 * IdP's, where signing out ends), no framing, and Trusted Types with no
 * policy at all, so no HTML string ever becomes markup in the page.
 */
export function consoleCsp(nonce: string, idpOrigin: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    `form-action 'self' ${idpOrigin}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ')
}

/** Renders `page` in the console's frame and sends it with its headers (CSP with a fresh nonce, no caching, no framing). */
export function sendConsolePage(
  res: Response,
  page: ConsolePage,
  frame: { readonly user?: SignedIn | undefined; readonly notice?: string | undefined; readonly idpOrigin: string },
): void {
  const nonce = randomBytes(16).toString('base64')
  res.status(page.status ?? 200).set({
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': consoleCsp(nonce, frame.idpOrigin),
    'Cache-Control': 'no-store',
    // Not no-referrer: browsers then send `Origin: null` with forms, and the CSRF check reads Origin.
    'Referrer-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
  })
  res.send(renderDocument(page, frame, nonce))
}

function renderDocument(page: ConsolePage, frame: { readonly user?: SignedIn | undefined; readonly notice?: string | undefined }, nonce: string): string {
  const user = frame.user
  const header = html`<header class="top">
    <a class="brand" href="/console">mqtt-oidc console</a>
    <nav aria-label="Main">
      ${
        user
          ? html`<a href="/console">Brokers</a>
              <span>Signed in as <strong>${user.username}</strong></span>
              <form class="inline" method="post" action="/console/logout">
                <input type="hidden" name="csrf" value="${user.csrf}" /><button type="submit" class="secondary">Sign out</button>
              </form>`
          : ''
      }
    </nav>
  </header>`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${user ? `<meta name="csrf-token" content="${escapeHtml(user.csrf)}">\n` : ''}<title>${escapeHtml(page.title)} · mqtt-oidc console</title>
<link rel="stylesheet" href="/console/assets/${CSS_FILE}" nonce="${nonce}">
<script src="/console/assets/${JS_FILE}" nonce="${nonce}" defer></script>
</head>
<body>
<a class="skip" href="#content">Skip to content</a>
${header.value}
<main id="content" tabindex="-1" data-page="${escapeHtml(page.name)}">
${frame.notice ? html`<p class="notice" role="status">${frame.notice}</p> `.value : ''}<h1>${escapeHtml(page.title)}</h1>
${page.body.value}
</main>
</body>
</html>
`
}
