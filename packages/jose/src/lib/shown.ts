const PLAIN = /^[A-Za-z0-9_.:+-]{1,64}$/

/** A member name fit for a message or log line: quoted when plain and short, else a neutral phrase (the sender chose it). */
export function shown(name: string | undefined): string {
  return name !== undefined && PLAIN.test(name) ? `"${name}"` : 'a member'
}
