import { createHash } from 'node:crypto'
import { escapeHtml, type Html } from '@mqtt-oidc/core'

// The template helpers are core's (the exchange's console renders its pages with them too).
export { escapeHtml, html, Html, raw } from '@mqtt-oidc/core'

// One static stylesheet, allowed by its hash: no external assets, no nonce bookkeeping.
const CSS = [
  ':root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5}',
  'body{margin:0;padding:2rem 1rem;background:Canvas;color:CanvasText}',
  'main{max-width:26rem;margin:0 auto;padding:1.5rem;border:1px solid #8886;border-radius:.5rem}',
  '.brand{margin:0 0 .25rem;font-size:.85rem;font-weight:600;letter-spacing:.04em;opacity:.7}',
  'h1{font-size:1.4rem;margin:0 0 1rem}',
  'a{color:LinkText}',
  'a:focus-visible{outline:3px solid #2563eb;outline-offset:2px}',
  'li{margin:.25rem 0}',
  'label{display:block;font-weight:600;margin:.75rem 0 .25rem}',
  'input[type=text],input[type=password]{box-sizing:border-box;width:100%;padding:.6rem;font-size:1rem;border:1px solid #888;border-radius:.25rem}',
  'input:focus-visible,button:focus-visible{outline:3px solid #2563eb;outline-offset:2px}',
  'button{margin-top:1rem;width:100%;padding:.6rem;font-size:1rem;font-weight:600;border:0;border-radius:.25rem;background:#1d4ed8;color:#fff;cursor:pointer}',
  'button.secondary{background:transparent;color:inherit;border:1px solid #888}',
  'form+form button{margin-top:.5rem}',
  '.error{color:#b91c1c;background:#fee2e2;padding:.5rem .75rem;border-radius:.25rem}',
  '.code{font-family:ui-monospace,monospace;font-size:1.5rem;letter-spacing:.1em}',
  'code{white-space:nowrap}',
  '.muted{opacity:.75;font-size:.9rem}',
].join('')

const CSS_HASH = `'sha256-${createHash('sha256').update(CSS).digest('base64')}'`

export interface PolicyOptions {
  /** Origins besides 'self' that forms may submit (or redirect after submission) to. */
  readonly formActions?: readonly string[]
  /** A `script-src` directive with no sources yet (oidc-provider adds its auto-submit script's hash). */
  readonly scriptHashSlot?: boolean
}

/**
 * The Content-Security-Policy of every HTML page the IdP renders: nothing
 * loads from anywhere, the one stylesheet is allowed by hash, forms post to
 * this origin only, and no one may frame the page (clickjacking).
 */
export function contentSecurityPolicy(options: PolicyOptions = {}): string {
  const formAction = ["'self'", ...(options.formActions ?? [])].join(' ')
  return [
    "default-src 'none'",
    `style-src ${CSS_HASH}`,
    options.scriptHashSlot ? 'script-src' : "script-src 'none'",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ')
}

/** Headers sent with every HTML page (CSP aside). */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
})

export interface Page {
  /** Marks the page for people reading the source and for the scripted test user agent. */
  readonly name: string
  readonly title: string
  readonly body: Html
}

/** The document around a page body. */
export function renderDocument(page: Page): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(page.title)} · mqtt-oidc</title>
<style>${CSS}</style>
</head>
<body>
<main data-page="${escapeHtml(page.name)}">
<p class="brand">mqtt-oidc</p>
<h1>${escapeHtml(page.title)}</h1>
${page.body.value}
</main>
</body>
</html>
`
}
