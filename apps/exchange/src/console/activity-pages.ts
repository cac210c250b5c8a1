import { html, type Html } from '@mqtt-oidc/core'
import type { ConsolePage } from './console-page.js'
import { time } from './console-format.js'
import type { CredentialView } from '@mqtt-oidc/core'
import type { SessionsView } from '../routes/admin-sessions.js'

export type { SessionsView }

/** The credentials page's search, as the form sends it. */
export interface CredentialSearch {
  readonly search: string
  readonly state: '' | 'live' | 'revoked' | 'expired'
  readonly source: '' | 'admin' | 'exchange'
}

/** GET /admin/brokers/:id/revocations/history. */
export interface HistoryView {
  readonly events: ReadonlyArray<{
    readonly revision: number
    readonly jti: string
    readonly clientId: string | null
    readonly action: 'revoke' | 'unrevoke'
    readonly at: number
    readonly expiresAt: number | null
  }>
  readonly next: string | null
}

const b = (id: string): string => `/console/brokers/${encodeURIComponent(id)}`
const crumbs = (broker: string): Html => html`<p class="crumbs"><a href="/console">Brokers</a> › <a href="${b(broker)}">${broker}</a></p>`

/** A POST form of one button: revoke or unrevoke `jti`, then back to `returnTo`. */
function jtiAction(broker: string, action: 'revoke' | 'unrevoke', jti: string, clientId: string, csrf: string, returnTo: string, js = false): Html {
  const label = action === 'revoke' ? 'Revoke' : 'Unrevoke'
  return html`<form class="inline${js ? ' js-revoke' : ''}" method="post" action="${b(broker)}/${action}">
    <input type="hidden" name="csrf" value="${csrf}" /><input type="hidden" name="jti" value="${jti}" /><input
      type="hidden"
      name="return"
      value="${returnTo}"
    />
    <button type="submit" class="${action === 'revoke' ? 'danger' : 'secondary'}" aria-label="${label} ${clientId} (jti ${jti})">${label}</button>
  </form>`
}

export function credentialsPage(
  broker: string,
  list: readonly CredentialView[],
  search: CredentialSearch,
  next: string | null,
  csrf: string,
  returnTo: string,
): ConsolePage {
  const option = (value: string, label: string, current: string): Html =>
    html`<option value="${value}" ${value === current ? html` selected` : ''}>${label}</option>`
  const query = new URLSearchParams({
    ...(search.search ? { search: search.search } : {}),
    ...(search.state ? { state: search.state } : {}),
    ...(search.source ? { source: search.source } : {}),
  })
  const rows = list.map(
    (c) =>
      html`<tr>
        <td data-label="Client id"><code>${c.clientId}</code></td>
        <td data-label="jti"><code>${c.jti}</code></td>
        <td data-label="Issued">${time(c.issuedAt)}</td>
        <td data-label="Expires">${time(c.expiresAt)}</td>
        <td data-label="State">
          <span class="state-${c.state}">${c.state}</span>${c.revokedAt !== null ? html` <span class="muted">(${time(c.revokedAt)})</span>` : ''}
        </td>
        <td data-label="Issued by">${c.source === 'admin' ? c.issuedBy : html`sign-in <code>${c.issuedBy}</code>`}</td>
        <td data-label="Action">
          ${c.state === 'revoked' ? jtiAction(broker, 'unrevoke', c.jti, c.clientId, csrf, returnTo) : c.state === 'live' ? jtiAction(broker, 'revoke', c.jti, c.clientId, csrf, returnTo) : ''}
        </td>
      </tr>`,
  )
  return {
    name: 'credentials',
    title: `Credentials of ${broker}`,
    body: html`${crumbs(broker)}
      <form method="get" action="${b(broker)}/credentials" role="search" aria-label="Search credentials">
        <div class="fields">
          <div><label for="search">Client id or jti</label><input id="search" name="search" type="search" spellcheck="false" value="${search.search}" /></div>
          <div>
            <label for="state">State</label
            ><select id="state" name="state">
              ${option('', 'any', search.state)}${option('live', 'live', search.state)}${option('revoked', 'revoked', search.state)}${option('expired', 'expired', search.state)}
            </select>
          </div>
          <div>
            <label for="source">Issued through</label
            ><select id="source" name="source">
              ${option('', 'either', search.source)}${option('admin', 'admin (issue)', search.source)}${option('exchange', 'token exchange (sign-in)', search.source)}
            </select>
          </div>
          <div class="actions"><button type="submit">Search</button></div>
        </div>
      </form>
      ${
        list.length === 0
          ? html`<p>No credentials match.</p>`
          : html`<table>
              <thead>
                <tr>
                  <th scope="col">Client id</th>
                  <th scope="col">jti</th>
                  <th scope="col">Issued</th>
                  <th scope="col">Expires</th>
                  <th scope="col">State</th>
                  <th scope="col">Issued by</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>`
      }
      ${next ? html`<p><a href="${b(broker)}/credentials?${query.toString()}${query.size > 0 ? '&' : ''}cursor=${encodeURIComponent(next)}">Next page</a></p>` : ''}
      <p class="muted">Newest first. Records of tokens that expired over an hour ago are pruned.</p>`,
  }
}

export function sessionsPage(broker: string, view: SessionsView, search: string, csrf: string, returnTo: string): ConsolePage {
  const events = `${b(broker)}/sessions/events${search ? `?${new URLSearchParams({ search }).toString()}` : ''}`
  const rows = view.sessions.map(
    (s) =>
      html`<tr data-jti="${s.jti}" data-client-id="${s.clientId}">
        <td data-label="Client id"><code>${s.clientId}</code></td>
        <td data-label="Username">${s.username ?? ''}</td>
        <td data-label="jti"><code>${s.jti}</code></td>
        <td data-label="Connected since">${time(s.connectedAt)}</td>
        <td data-label="Token expires">${time(s.expiresAt)}</td>
        <td data-label="Address">${s.remoteAddress ?? ''}</td>
        <td data-label="Node"><code>${s.node}</code></td>
        <td data-label="Action">${jtiAction(broker, 'revoke', s.jti, s.clientId, csrf, returnTo, true)}</td>
      </tr>`,
  )
  const nodes =
    view.nodes.length === 0
      ? 'No broker node is reporting.'
      : `${view.nodes.map((n) => `${n.node}: ${n.sessions} session${n.sessions === 1 ? '' : 's'}`).join('; ')}${view.truncated ? ` (showing the newest ${view.sessions.length})` : ''}`
  return {
    name: 'sessions',
    title: `Live sessions on ${broker}`,
    body: html`${crumbs(broker)}
      <form method="get" action="${b(broker)}/sessions" role="search" aria-label="Search sessions">
        <div class="fields">
          <div><label for="search">Client id or jti</label><input id="search" name="search" type="search" spellcheck="false" value="${search}" /></div>
          <div class="actions"><button type="submit">Search</button></div>
        </div>
      </form>
      <section id="live-sessions" aria-labelledby="live-heading" data-broker="${broker}" data-events="${events}" data-return="${returnTo}">
        <h2 id="live-heading" tabindex="-1">Sessions</h2>
        <p id="live-status" class="live" data-state="connecting" role="status" aria-live="polite">Connecting to the live feed...</p>
        <p id="live-nodes" class="muted">${nodes}</p>
        <table>
          <thead>
            <tr>
              <th scope="col">Client id</th>
              <th scope="col">Username</th>
              <th scope="col">jti</th>
              <th scope="col">Connected since</th>
              <th scope="col">Token expires</th>
              <th scope="col">Address</th>
              <th scope="col">Node</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            ${rows}
          </tbody>
        </table>
        <p id="live-empty" ${view.sessions.length > 0 ? html` hidden` : ''}>No live sessions.</p>
      </section>
      <p class="muted">
        Broker nodes report their sessions to the exchange as they start and end; revoking a credential closes its sessions within a second.
      </p>`,
  }
}

export function historyPage(broker: string, view: HistoryView): ConsolePage {
  const rows = view.events.map(
    (e) =>
      html`<tr>
        <td data-label="Revision">${e.revision}</td>
        <td data-label="When">${time(e.at)}</td>
        <td data-label="Action"><span class="state-${e.action === 'revoke' ? 'revoked' : 'live'}">${e.action === 'revoke' ? 'revoked' : 'unrevoked'}</span></td>
        <td data-label="Client id">${e.clientId === null ? html`<span class="muted">record pruned</span>` : html`<code>${e.clientId}</code>`}</td>
        <td data-label="jti"><code>${e.jti}</code></td>
        <td data-label="Token expires">${time(e.expiresAt)}</td>
      </tr>`,
  )
  return {
    name: 'revocations',
    title: `Revocation history of ${broker}`,
    body: html`${crumbs(broker)}
      <p><a href="${b(broker)}/credentials?state=revoked">Revoked credentials</a> (to unrevoke one)</p>
      ${
        view.events.length === 0
          ? html`<p>Nothing was revoked yet.</p>`
          : html`<table>
              <thead>
                <tr>
                  <th scope="col">Revision</th>
                  <th scope="col">When</th>
                  <th scope="col">Action</th>
                  <th scope="col">Client id</th>
                  <th scope="col">jti</th>
                  <th scope="col">Token expires</th>
                </tr>
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>`
      }
      ${view.next ? html`<p><a href="${b(broker)}/revocations?before=${view.next}">Older</a></p>` : ''}
      <p class="muted">
        Newest first: every change the brokers follow, made through any exchange instance. Events of tokens that expired over an hour ago are pruned.
      </p>`,
  }
}
