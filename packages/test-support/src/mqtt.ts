import { spawn } from 'node:child_process'
import { connect } from 'mqtt'
import type { IClientOptions, MqttClient, Packet } from 'mqtt'

export interface Connected {
  readonly client: MqttClient
  /** CONNACK return code as sent on the wire. */
  readonly returnCode: number
}

/**
 * Connects with mqtt.js (MQTT 3.1.1, no reconnect) and resolves with the raw
 * CONNACK return code; the client is left open when it was accepted.
 */
export function connectRaw(url: string, options: IClientOptions, onClient?: (client: MqttClient) => void): Promise<Connected> {
  return new Promise((resolve, reject) => {
    const client = connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, clean: true, ...options })
    // Before any packet: a session resumed at CONNECT may deliver right behind the CONNACK.
    onClient?.(client)
    client.on('packetreceive', (packet: Packet) => {
      if (packet.cmd !== 'connack') return
      const returnCode = packet.returnCode ?? -1
      if (returnCode !== 0) client.end(true)
      resolve({ client, returnCode })
    })
    client.on('error', () => {}) // refusals are read from the CONNACK itself
    client.on('close', () => reject(new Error('closed before CONNACK')))
  })
}

/** CONNACK return code of one connection attempt (the client is closed afterwards). */
export async function connackOf(url: string, options: IClientOptions): Promise<number> {
  const { client, returnCode } = await connectRaw(url, options)
  await client.endAsync(true)
  return returnCode
}

/** Connects and expects CONNACK 0. */
export async function connected(url: string, options: IClientOptions): Promise<MqttClient> {
  const { client, returnCode } = await connectRaw(url, options)
  if (returnCode !== 0) throw new Error(`CONNACK ${returnCode}`)
  return client
}

/** Sends one SUBSCRIBE and resolves with the SUBACK return codes exactly as received. */
export function subackCodes(client: MqttClient, filters: Record<string, { qos: 0 | 1 | 2 }>): Promise<number[]> {
  return new Promise((resolve) => {
    const onPacket = (packet: Packet): void => {
      if (packet.cmd !== 'suback') return
      client.off('packetreceive', onPacket)
      resolve(packet.granted.map((g) => (typeof g === 'number' ? g : (g as { qos: number }).qos)))
    }
    client.on('packetreceive', onPacket)
    client.subscribe(filters, () => {})
  })
}

/** The next message on `topic` (or any topic). */
export function nextMessage(client: MqttClient, topic?: string): Promise<{ topic: string; payload: string; retain: boolean }> {
  return new Promise((resolve) => {
    const onMessage = (t: string, payload: Buffer, packet: { retain?: boolean }): void => {
      if (topic !== undefined && t !== topic) return
      client.off('message', onMessage)
      resolve({ topic: t, payload: payload.toString(), retain: packet.retain === true })
    }
    client.on('message', onMessage)
  })
}

/** Resolves when the broker has closed the connection. */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (client.disconnected) return resolve()
    client.once('close', () => resolve())
  })
}

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** A running mosquitto-clients process (killed after `timeoutMs`). */
export interface Spawned {
  /** Resolves when stdout has printed `text`; rejects if the process exits first. */
  printed(text: string): Promise<void>
  readonly exited: Promise<Run>
}

export function spawnTool(command: string, args: string[], timeoutMs = 10_000): Spawned {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiters: Array<{ text: string; resolve: () => void; reject: (err: Error) => void }> = []
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    for (const w of [...waiters]) {
      if (stdout.includes(w.text)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    }
  })
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const exited = new Promise<Run>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      for (const w of waiters.splice(0)) w.reject(new Error(`${command} exited (${code}) before printing ${w.text}: ${stderr}`))
      resolve({ code, stdout, stderr })
    })
  })
  return {
    printed: (text) => (stdout.includes(text) ? Promise.resolve() : new Promise((resolve, reject) => waiters.push({ text, resolve, reject }))),
    exited,
  }
}
