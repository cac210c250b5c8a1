/**
 * Member names in JSON text, at every depth: a string followed by `:`. Only
 * for text JSON.parse accepted, where every `"` outside a string opens one,
 * so strings are skipped whole with indexOf (no per-character loop: this
 * runs on the broker's hot path for every payload).
 */
export function membersInText(text: string): number {
  let members = 0
  let start = text.indexOf('"')
  while (start !== -1) {
    let end = text.indexOf('"', start + 1)
    while (end !== -1 && escaped(text, end)) end = text.indexOf('"', end + 1)
    if (end === -1) return -1
    let next = end + 1
    let c = text.charCodeAt(next)
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++next)
    if (c === 0x3a) members++
    start = text.indexOf('"', next)
  }
  return members
}

/** Members of every object in a parsed JSON value (iterative: nesting depth is the sender's choice). */
export function membersInValue(value: unknown): number {
  let members = 0
  const pending: unknown[] = [value]
  while (pending.length > 0) {
    const v = pending.pop()
    if (typeof v !== 'object' || v === null) continue
    if (Array.isArray(v)) {
      for (const item of v) if (typeof item === 'object' && item !== null) pending.push(item)
      continue
    }
    // for-in allocates no key array; JSON.parse objects inherit nothing enumerable (if a polluted
    // prototype added some, the counts differ and the exact slow path decides)
    for (const key in v) {
      members++
      const item = (v as Record<string, unknown>)[key]
      if (typeof item === 'object' && item !== null) pending.push(item)
    }
  }
  return members
}

/** Whether the `"` at `at` is escaped (an odd run of backslashes before it). */
function escaped(text: string, at: number): boolean {
  let backslashes = 0
  while (text.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes++
  return (backslashes & 1) === 1
}
