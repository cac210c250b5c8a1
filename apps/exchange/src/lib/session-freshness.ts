import type { ExchangeContext } from './context.js'

/** Heartbeats a node may miss before its sessions are taken for gone. */
export const MISSED_HEARTBEATS = 3

/** The earliest last-report time of a node still taken to be up, at `now`. */
export function freshSince(ctx: Pick<ExchangeContext, 'sessions'>, now: number): number {
  return now - MISSED_HEARTBEATS * ctx.sessions.heartbeatSeconds
}
