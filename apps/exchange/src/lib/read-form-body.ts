import type { IncomingMessage } from 'node:http'
import { InvalidRequest } from '@mqtt-oidc/core'

/** Largest form body taken, bytes (an ID token is a few KB). */
export const MAX_FORM_BYTES = 64 * 1024
/** Most parameters in one form. */
export const MAX_FORM_PARAMETERS = 50

/** A parsed form: a parameter given once is a string, a repeated one an array (as express's urlencoded parser makes them). */
export type FormBody = Record<string, string | string[]>

export interface FormRequest {
  /** The media type of the body, lowercased, without parameters; undefined when the request has no body. */
  readonly mediaType: string | undefined
  /** The parsed body when it is `application/x-www-form-urlencoded`, else empty. */
  readonly body: FormBody
}

/**
 * Reads a request body as an `application/x-www-form-urlencoded` form
 * (UTF-8), straight from node:http: the token endpoint's hot path skips
 * express's router and body parsers, which cost more CPU per request than
 * verifying the subject token. Refuses (InvalidRequest) a body over
 * MAX_FORM_BYTES, a charset other than UTF-8 and more than
 * MAX_FORM_PARAMETERS parameters, with the messages the express parsers give.
 */
export async function readFormBody(req: IncomingMessage): Promise<FormRequest> {
  const contentType = req.headers['content-type']
  const [type = '', ...params] = (contentType ?? '').split(';')
  const mediaType = hasBody(req) ? type.trim().toLowerCase() || undefined : undefined
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_FORM_BYTES) throw new InvalidRequest('the request body is too large')
  const raw = await readBody(req)
  if (mediaType !== 'application/x-www-form-urlencoded') return { mediaType, body: {} }
  const charset = params
    .map((p) => p.trim().toLowerCase())
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replace(/"/g, '')
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') throw new InvalidRequest('the request body cannot be read')
  return { mediaType, body: parseForm(raw) }
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0')
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_FORM_BYTES) {
        req.removeAllListeners('data')
        req.pause()
        reject(new InvalidRequest('the request body is too large'))
        return
      }
      chunks.push(chunk)
    })
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.once('error', reject)
  })
}

function parseForm(raw: string): FormBody {
  const body: FormBody = Object.create(null) as FormBody
  if (raw === '') return body
  const pairs = raw.split('&')
  if (pairs.length > MAX_FORM_PARAMETERS) throw new InvalidRequest('the request body cannot be read')
  for (const pair of pairs) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const name = decode(eq < 0 ? pair : pair.slice(0, eq))
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1))
    const seen = body[name]
    body[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value]
  }
  return body
}

function decode(text: string): string {
  const spaced = text.includes('+') ? text.replace(/\+/g, ' ') : text
  if (!spaced.includes('%')) return spaced
  try {
    return decodeURIComponent(spaced)
  } catch {
    throw new InvalidRequest('the request body cannot be read')
  }
}
