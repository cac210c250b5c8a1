import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/** Lowest port of the range tried, and the fallback start of the kernel's ephemeral range where /proc does not say it. */
const RANGE_START = 20_000
const LINUX_EPHEMERAL_START = 32_768

/**
 * `n` distinct loopback ports that are free now and lie BELOW the kernel's
 * ephemeral range (net.ipv4.ip_local_port_range), for ports a container
 * engine publishes. Rootful podman forwards a published port with a DNAT
 * rule rather than by holding it open, so the kernel may still hand that
 * port to any server that listens on port 0; connections to that server
 * then reach the container instead (a refused or hanging connection in an
 * unrelated test). Ports outside the ephemeral range are never handed out
 * that way.
 */
export async function freeHostPorts(n: number): Promise<number[]> {
  const end = ephemeralStart()
  const picked = new Set<number>()
  for (let attempt = 0; picked.size < n; attempt++) {
    if (attempt > 1000) throw new Error(`no ${n} free ports between ${RANGE_START} and ${end}`)
    const port = RANGE_START + Math.floor(Math.random() * (end - RANGE_START))
    if (!picked.has(port) && (await bindable(port))) picked.add(port)
  }
  return [...picked]
}

function ephemeralStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) && low > RANGE_START ? low : LINUX_EPHEMERAL_START
  } catch {
    return LINUX_EPHEMERAL_START
  }
}

function bindable(port: number): Promise<boolean> {
  const server = createServer()
  return new Promise((resolve) => {
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}
