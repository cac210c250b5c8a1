import { Router, type Request, type Response } from 'express'
import type { Logger } from 'pino'
import { Conflict, InvalidRequest, NotFound, type Store } from '@mqtt-oidc/core'
import type { ClientMetadata, Provider } from 'oidc-provider'
import { createClientSecret } from './client-secret.js'
import { builtInClientView, changedClient, clientView, createClientSchema, newClient, updateClientSchema, type ClientView } from './client-registration.js'
import { idpAdminName } from './require-idp-admin.js'
import { parseAdminBody as parse } from './parse-admin-body.js'

export interface AdminClientsDeps {
  readonly store: Store
  readonly provider: Provider
  /** The static clients (CLI, admin): listed, never changed. */
  readonly builtIn: readonly ClientMetadata[]
  readonly logger: Logger
  readonly now?: () => number
}

/**
 * /admin/clients: OAuth clients registered at this IdP. They live in the
 * store, which oidc-provider reads on every request naming a client, so a
 * change applies at once on every instance sharing the store.
 *
 *   GET    /admin/clients               list (built-in clients too, marked built_in)
 *   POST   /admin/clients               register (201; a confidential client's secret is in this answer only)
 *   GET    /admin/clients/:id           one client
 *   PATCH  /admin/clients/:id           change the fields given
 *   POST   /admin/clients/:id/secret    a new secret (the old one stops working)
 *   DELETE /admin/clients/:id           remove (204)
 */
export function adminClientsRoutes(deps: AdminClientsDeps): Router {
  const router = Router()
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000))
  const builtIn = new Map(deps.builtIn.map((metadata) => [metadata.client_id, builtInClientView(metadata)]))
  const audit = (res: Response, action: string, clientId: string): void => {
    deps.logger.info({ audit: true, who: idpAdminName(res), action, client_id: clientId }, `admin: ${action}`)
  }
  const registered = async (id: string) => {
    refuseBuiltIn(builtIn, id)
    const client = await deps.store.oauthClients.get(id)
    if (!client) throw new NotFound(`no client "${id.slice(0, 128)}"`)
    return client
  }

  router.get('/clients', async (_req: Request, res: Response) => {
    const stored = (await deps.store.oauthClients.list()).map(clientView)
    const all: ClientView[] = [...builtIn.values(), ...stored].sort((a, b) => a.client_id.localeCompare(b.client_id))
    res.set('Cache-Control', 'no-store').json(all)
  })

  router.post('/clients', async (req: Request, res: Response) => {
    const input = parse(createClientSchema, req.body)
    if (input.client_id !== undefined && builtIn.has(input.client_id)) throw new Conflict(`client "${input.client_id}" is built in`)
    const { client, secret } = await newClient(deps.provider, input, now())
    await deps.store.oauthClients.create(client)
    audit(res, 'client registered', client.clientId)
    res
      .status(201)
      .location(`/admin/clients/${encodeURIComponent(client.clientId)}`)
      .set('Cache-Control', 'no-store')
      .json({ ...clientView(client), ...(secret === undefined ? {} : { client_secret: secret }) })
  })

  router.get('/clients/:id', async (req: Request<{ id: string }>, res: Response) => {
    const shown = builtIn.get(req.params.id)
    res.set('Cache-Control', 'no-store').json(shown ?? clientView(await registered(req.params.id)))
  })

  router.patch('/clients/:id', async (req: Request<{ id: string }>, res: Response) => {
    const input = parse(updateClientSchema, req.body)
    if (Object.keys(input).length === 0) throw new InvalidRequest('nothing to change: give at least one field')
    const current = await registered(req.params.id)
    const { client, secret } = await changedClient(deps.provider, current, input, now())
    const saved = await deps.store.oauthClients.update(client.clientId, client)
    audit(res, 'client updated', saved.clientId)
    res.set('Cache-Control', 'no-store').json({ ...clientView(saved), ...(secret === undefined ? {} : { client_secret: secret }) })
  })

  router.post('/clients/:id/secret', async (req: Request<{ id: string }>, res: Response) => {
    const current = await registered(req.params.id)
    if (current.tokenEndpointAuthMethod === 'none')
      throw new InvalidRequest(`client "${current.clientId}" is public (token_endpoint_auth_method none): it has no secret`)
    const { secret, hash } = createClientSecret()
    await deps.store.oauthClients.update(current.clientId, { secretHash: hash, updatedAt: now() })
    audit(res, 'client secret rotated', current.clientId)
    res.set('Cache-Control', 'no-store').json({ client_id: current.clientId, client_secret: secret })
  })

  router.delete('/clients/:id', async (req: Request<{ id: string }>, res: Response) => {
    const current = await registered(req.params.id)
    await deps.store.oauthClients.delete(current.clientId)
    audit(res, 'client removed', current.clientId)
    res.status(204).end()
  })

  return router
}

function refuseBuiltIn(builtIn: ReadonlyMap<string, ClientView>, id: string): void {
  if (builtIn.has(id)) throw new InvalidRequest(`client "${id}" is built into the IdP; it cannot be changed or removed here`)
}
