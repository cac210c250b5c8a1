import { InvalidRequest } from './errors.js'

/**
 * The refusal for a request body that could not be read (body-parser's
 * errors: bad JSON, too large, wrong charset): the caller's fault, so
 * `invalid_request`, never a server error. undefined for any other error.
 *
 * @example sendError(res, bodyParserRefusal(err) ?? err, log)
 */
export function bodyParserRefusal(err: unknown): InvalidRequest | undefined {
  const e = err as { type?: unknown; status?: unknown } | null | undefined
  if (typeof e?.type !== 'string' || typeof e.status !== 'number' || e.status >= 500) return undefined
  if (e.type === 'entity.parse.failed') return new InvalidRequest('the request body is not valid JSON')
  if (e.type === 'entity.too.large') return new InvalidRequest('the request body is too large')
  return new InvalidRequest('the request body cannot be read')
}
