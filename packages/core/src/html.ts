/**
 * HTML built safely from templates, for the pages the apps render (the
 * IdP's sign-in pages, the exchange's console): every interpolated value is
 * escaped unless it is already `Html`.
 */

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

/** Tagged template: interpolated values are escaped unless wrapped with `raw()` (arrays are joined, absent values empty). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? ''
  values.forEach((value, i) => {
    out += renderValue(value) + (strings[i + 1] ?? '')
  })
  return new Html(out)
}

/** Already-safe markup (built with `html`, or trusted). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value
  }
}

/** Marks `markup` as safe: only for markup built here, never for input. */
export function raw(markup: string): Html {
  return new Html(markup)
}

function renderValue(value: unknown): string {
  if (value instanceof Html) return value.value
  if (Array.isArray(value)) return value.map(renderValue).join('')
  if (value === undefined || value === null || value === false) return ''
  return escapeHtml(value)
}
