import { formatDuration as formatCoreDuration, html, type Html } from '@mqtt-oidc/core'

/** An epoch-seconds time as people read it in a fleet spanning time zones: UTC, to the second. */
export function formatTime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return 'never'
  return `${new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 19)} UTC`
}

/** A `<time>` element for `seconds`. */
export function time(seconds: number | null | undefined): Html {
  if (seconds === null || seconds === undefined) return html`never`
  return html`<time datetime="${new Date(seconds * 1000).toISOString()}">${formatTime(seconds)}</time>`
}

/** A lifetime in seconds as the admin API and the CLI write it (core's formatDuration: `1w`, `48h`, `15m`, `30s`), or `none`. */
export function formatDuration(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined ? 'none' : formatCoreDuration(seconds)
}

/** A list of topic filters, or `nothing`. */
export function filters(list: readonly string[] | undefined): Html {
  return list && list.length > 0 ? html`${list.map((f, i) => html`${i > 0 ? ', ' : ''}<code>${f}</code>`)}` : html`nothing`
}
