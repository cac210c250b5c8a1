/**
 * The first member name that appears twice in one object of this JSON text
 * (names compared after unescaping, so `"a"` and `"\u0061"` are the same),
 * or undefined. The slow path behind `membersInText`: it runs only when
 * the counts already show a duplicate, to name it.
 */
export function findDuplicateMember(text: string): string | undefined {
  const objects: Array<Set<string> | null> = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '{') objects.push(new Set())
    else if (c === '[') objects.push(null)
    else if (c === '}' || c === ']') objects.pop()
    else if (c === '"') {
      let end = text.indexOf('"', i + 1)
      while (end !== -1 && isEscaped(text, end)) end = text.indexOf('"', end + 1)
      if (end === -1) return undefined
      let next = end + 1
      while (/\s/.test(text[next] ?? '')) next++
      const names = objects.at(-1)
      if (text[next] === ':' && names) {
        const name = JSON.parse(text.slice(i, end + 1)) as string
        if (names.has(name)) return name
        names.add(name)
      }
      i = end
    }
  }
  return undefined
}

function isEscaped(text: string, at: number): boolean {
  let backslashes = 0
  while (text[at - 1 - backslashes] === '\\') backslashes++
  return backslashes % 2 === 1
}
