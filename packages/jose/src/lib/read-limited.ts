/** A response body as text, refused once it grows past `maxBytes` (a JWKS endpoint cannot make us buffer gigabytes). */
export async function readLimited(res: Response, maxBytes: number): Promise<string> {
  const tooLarge = (): Error => new Error(`the JWKS is larger than ${maxBytes} bytes`)
  if (Number(res.headers.get('content-length') ?? 0) > maxBytes) {
    await res.body?.cancel().catch(() => {})
    throw tooLarge()
  }
  if (!res.body) return ''
  const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => {})
      throw tooLarge()
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}
