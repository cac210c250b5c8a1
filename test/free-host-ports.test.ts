/**
 * Host ports for a container engine to publish (the compose test's): free,
 * distinct, and below the kernel's ephemeral range, so that no server of
 * another test, listening on port 0, can be handed one while podman forwards
 * it to a container.
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { freeHostPorts } from '@mqtt-oidc/test-support/free-host-ports'

describe('freeHostPorts', () => {
  it('gives distinct ports below the ephemeral range that a server can listen on', async () => {
    const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    const ports = await freeHostPorts(7)
    expect(new Set(ports).size).toBe(7)
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000)
      expect(port).toBeLessThan(ephemeralStart)
      const server = createServer()
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', resolve)
      })
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('skips a port that is taken', async () => {
    const [taken] = await freeHostPorts(1)
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(taken, '127.0.0.1', resolve))
    try {
      for (let i = 0; i < 20; i++) expect(await freeHostPorts(50)).not.toContain(taken)
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})
