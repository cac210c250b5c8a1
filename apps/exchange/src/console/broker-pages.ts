import { html, type Html } from '@mqtt-oidc/core'
import type { ConsolePage } from './console-page.js'
import { filters, formatDuration, formatTime, time } from './console-format.js'

/** A broker as the admin API lists it (GET /admin/brokers[/:id]). */
export interface BrokerView {
  readonly id: string
  readonly expiration: number | null
  readonly acl: { readonly pub: readonly string[]; readonly sub: readonly string[] }
  readonly url: string | null
  readonly createdAt: number
  readonly updatedAt: number
  readonly policy: {
    readonly clientIdMode: string
    readonly aclTemplates: ReadonlyArray<{
      readonly when: { readonly group?: string; readonly claim?: string; readonly value?: string }
      readonly acl: { readonly pub: readonly string[]; readonly sub: readonly string[] }
    }>
    readonly maxLifetime: number | null
    readonly rateLimit: { readonly requests: number; readonly windowSeconds: number } | null
    readonly profile: string
    readonly allowedIssuers: readonly string[]
    readonly alg: string
    readonly resourceServerId?: string
  }
}

/** One credential just issued (the token is on the issued page only). */
export interface IssuedCredential {
  readonly clientId: string
  readonly username: string | null
  readonly jti: string
  readonly expiresAt: number | null
  readonly token: string
}

/** What the issue form had, to show it again with an error. */
export interface IssueInput {
  readonly number?: string
  readonly clientIds?: string
  readonly expiration?: string
  readonly username?: string
  readonly notBefore?: string
}

const b = (id: string): string => `/console/brokers/${encodeURIComponent(id)}`

export function brokerListPage(brokers: readonly BrokerView[]): ConsolePage {
  const rows = brokers.map(
    (broker) =>
      html`<tr>
        <td data-label="Broker"><a href="${b(broker.id)}">${broker.id}</a></td>
        <td data-label="Address">${broker.url ?? ''}</td>
        <td data-label="Lifetime">${formatDuration(broker.expiration)}</td>
        <td data-label="Profile">${broker.policy.profile} · ${broker.policy.alg}</td>
        <td data-label="Pages"><a href="${b(broker.id)}/sessions">Live sessions</a> · <a href="${b(broker.id)}/credentials">Credentials</a></td>
      </tr>`,
  )
  return {
    name: 'brokers',
    title: 'Brokers',
    body:
      brokers.length === 0
        ? html`<p>No brokers yet. Create one with <code>mqtt-oidc broker create &lt;id&gt;</code>.</p>`
        : html`<table>
            <thead>
              <tr>
                <th scope="col">Broker</th>
                <th scope="col">Address</th>
                <th scope="col">Default lifetime</th>
                <th scope="col">Profile</th>
                <th scope="col">Pages</th>
              </tr>
            </thead>
            <tbody>
              ${rows}
            </tbody>
          </table>`,
  }
}

/** A broker with its policy, and the form that issues credentials. */
export function brokerPage(broker: BrokerView, csrf: string, issue: { input?: IssueInput; error?: string } = {}): ConsolePage {
  const p = broker.policy
  const templates = p.aclTemplates.map((t) => html`<li>${describeWhen(t.when)}: publish ${filters(t.acl.pub)}; subscribe ${filters(t.acl.sub)}</li>`)
  const input = issue.input ?? {}
  const invalid = issue.error ? html` aria-invalid="true" aria-describedby="issue-error"` : ''
  return {
    name: 'broker',
    title: `Broker ${broker.id}`,
    status: issue.error ? 400 : 200,
    body: html`<nav aria-label="Broker pages" class="actions">
        <a class="button secondary" href="${b(broker.id)}/sessions">Live sessions</a>
        <a class="button secondary" href="${b(broker.id)}/credentials">Credentials</a>
        <a class="button secondary" href="${b(broker.id)}/revocations">Revocation history</a>
      </nav>
      <h2>Policy</h2>
      <dl class="facts">
        <dt>Address</dt>
        <dd>${broker.url ?? 'not set'}</dd>
        <dt>Default lifetime</dt>
        <dd>${broker.expiration === null ? "not set (credentials issued here default to the exchange's lifetime)" : formatDuration(broker.expiration)}</dd>
        <dt>ACL</dt>
        <dd>publish ${filters(broker.acl.pub)}; subscribe ${filters(broker.acl.sub)}</dd>
        <dt>ACL templates</dt>
        <dd>
          ${
            templates.length > 0
              ? html`<ul>
                  ${templates}
                </ul>`
              : 'none (everyone gets the ACL above)'
          }
        </dd>
        <dt>Client id from</dt>
        <dd>${p.clientIdMode === 'generated' ? 'generated per exchange' : "the sign-in's client id claim"}</dd>
        <dt>Longest exchanged token</dt>
        <dd>${p.maxLifetime === null ? "the exchange's maximum" : formatDuration(p.maxLifetime)}</dd>
        <dt>Rate limit</dt>
        <dd>${p.rateLimit ? `${p.rateLimit.requests} per ${formatDuration(p.rateLimit.windowSeconds)} per subject` : 'none'}</dd>
        <dt>Allowed issuers</dt>
        <dd>${p.allowedIssuers.length > 0 ? p.allowedIssuers.join(', ') : 'every trusted issuer'}</dd>
        <dt>Profile</dt>
        <dd>${p.profile}${p.resourceServerId ? ` (resource server ${p.resourceServerId})` : ''}</dd>
        <dt>Signing algorithm</dt>
        <dd>${p.alg}</dd>
        <dt>Created</dt>
        <dd>${time(broker.createdAt)}</dd>
        <dt>Updated</dt>
        <dd>${time(broker.updatedAt)}</dd>
      </dl>
      <h2 id="issue">Issue credentials</h2>
      ${issue.error ? html`<p class="error" id="issue-error" role="alert">${issue.error}</p>` : ''}
      <form method="post" action="${b(broker.id)}/issue" aria-labelledby="issue">
        <input type="hidden" name="csrf" value="${csrf}" />
        <div class="fields">
          <div>
            <label for="number">How many</label>
            <input id="number" name="number" type="number" min="1" max="100" inputmode="numeric" value="${input.number ?? '1'}" ${invalid} />
            <p class="hint">1 to 100, each with a generated client id.</p>
          </div>
          <div>
            <label for="expiration">Expires after</label>
            <input
              id="expiration"
              name="expiration"
              type="text"
              spellcheck="false"
              placeholder="${formatDuration(broker.expiration) === 'none' ? '7d' : formatDuration(broker.expiration)}"
              value="${input.expiration ?? ''}"
              ${invalid}
            />
            <p class="hint">30s, 15m, 48h, 7d, or -1 for never. Empty: the broker's default.</p>
          </div>
          <div>
            <label for="username">Username</label>
            <input id="username" name="username" type="text" autocomplete="off" spellcheck="false" value="${input.username ?? ''}" />
            <p class="hint">Optional: the MQTT username the credentials carry.</p>
          </div>
          <div>
            <label for="notBefore">Valid from</label>
            <input id="notBefore" name="notBefore" type="text" spellcheck="false" placeholder="now" value="${input.notBefore ?? ''}" />
            <p class="hint">Optional: a time (2030-01-31T12:00:00Z) or a duration from now (1h).</p>
          </div>
        </div>
        <label for="clientIds">Client ids</label>
        <textarea id="clientIds" name="clientIds" spellcheck="false" autocomplete="off" aria-describedby="client-ids-hint" ${invalid}>
${input.clientIds ?? ''}</textarea>
        <p class="hint" id="client-ids-hint">Optional: one per line (up to 100) instead of generated ones; then "How many" is ignored.</p>
        <div class="actions"><button type="submit">Issue credentials</button></div>
      </form>`,
  }
}

function describeWhen(when: { group?: string; claim?: string; value?: string }): Html {
  const parts = [
    ...(when.group ? [html`in group <code>${when.group}</code>`] : []),
    ...(when.claim ? [html`claim <code>${when.claim}</code> = <code>${when.value ?? ''}</code>`] : []),
  ]
  return parts.length === 0 ? html`anyone` : html`${parts.map((part, i) => html`${i > 0 ? ' and ' : ''}${part}`)}`
}

/** The credentials just issued, with their downloads (the tokens are shown on this page only). */
export function issuedPage(broker: BrokerView, issued: readonly IssuedCredential[], issuedAt: number, issuedBy: string): ConsolePage {
  const stamp = new Date(issuedAt * 1000).toISOString().replace(/[-:]/g, '').slice(0, 15)
  const json = JSON.stringify(Object.fromEntries(issued.map((c) => [c.clientId, c.token])), null, 2)
  const env = dotenv(broker, issued, issuedAt, issuedBy)
  const dataUrl = (type: string, text: string): string => `data:${type};base64,${Buffer.from(text).toString('base64')}`
  const rows = issued.map(
    (c) =>
      html`<tr>
        <td data-label="Client id"><code>${c.clientId}</code></td>
        <td data-label="jti"><code>${c.jti}</code></td>
        <td data-label="Expires">${time(c.expiresAt)}</td>
        <td data-label="Token (password)" class="token"><code>${c.token}</code></td>
      </tr>`,
  )
  return {
    name: 'issued',
    title: `${issued.length} credential${issued.length === 1 ? '' : 's'} issued for ${broker.id}`,
    body: html`<p role="status">
        Keep them now: the tokens are shown on this page only (the exchange keeps no copy). Connect with the client id as MQTT client id and the token as
        password.
      </p>
      <div class="actions">
        <a class="button" href="${dataUrl('application/json', `${json}\n`)}" download="${broker.id}-credentials-${stamp}.json">Download JSON</a>
        <a class="button" href="${dataUrl('text/plain', env)}" download="${broker.id}-credentials-${stamp}.env">Download .env</a>
        <a class="button secondary" href="${b(broker.id)}#issue">Issue more</a>
        <a class="button secondary" href="${b(broker.id)}/credentials">All credentials</a>
      </div>
      <table>
        <thead>
          <tr>
            <th scope="col">Client id</th>
            <th scope="col">jti</th>
            <th scope="col">Expires</th>
            <th scope="col">Token (password)</th>
          </tr>
        </thead>
        <tbody>
          ${rows}
        </tbody>
      </table>`,
  }
}

/** The `.env` download: one credential as MQTT_CLIENT_ID/MQTT_PASSWORD, several numbered _1, _2, ... */
export function dotenv(broker: Pick<BrokerView, 'id' | 'url'>, issued: readonly IssuedCredential[], issuedAt: number, issuedBy: string): string {
  const quote = (value: string): string => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`
  const lines = [`# mqtt-oidc credentials for broker ${broker.id}, issued ${formatTime(issuedAt)} by ${issuedBy}`]
  if (broker.url) lines.push(`MQTT_BROKER_URL=${quote(broker.url)}`)
  issued.forEach((c, i) => {
    const n = issued.length === 1 ? '' : `_${i + 1}`
    lines.push(
      `# jti ${c.jti}, expires ${formatTime(c.expiresAt)}`,
      `MQTT_CLIENT_ID${n}=${quote(c.clientId)}`,
      // MQTT 3.1.1 sends a password only with a username: the token's own, else the client id.
      `MQTT_USERNAME${n}=${quote(c.username ?? c.clientId)}`,
      `MQTT_PASSWORD${n}=${quote(c.token)}`,
    )
  })
  return `${lines.join('\n')}\n`
}
