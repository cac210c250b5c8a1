/** Longest group name (characters). */
export const MAX_GROUP_LENGTH = 256

/**
 * What is wrong with an account's list of groups (each name, and repeats);
 * empty when nothing is. Groups are matched by equality (a broker's ACL
 * templates, `when.group`), so any printable name is fine.
 */
export function groupProblems(groups: readonly string[]): string[] {
  const problems: string[] = []
  for (const group of groups) {
    const control = [...group].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)
    if (group.length === 0 || group.length > MAX_GROUP_LENGTH || control) {
      problems.push(`group ${JSON.stringify(group.slice(0, 64))} must be 1-${MAX_GROUP_LENGTH} characters without control characters`)
    }
  }
  if (new Set(groups).size !== groups.length) problems.push('groups must be unique')
  return problems
}
