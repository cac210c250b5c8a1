import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The repository must stand on its own: a newcomer reads docs/architecture.md
// and the code, and finds nothing that points at documents, trackers or
// directories they cannot see.

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SELF = relative(ROOT, fileURLToPath(import.meta.url))

/** Every file git tracks, with its text (binary files left out). */
function trackedFiles(): Array<{ path: string; text: string }> {
  const paths = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean)
  return paths
    .filter((path) => existsSync(join(ROOT, path)))
    .map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }))
    .filter(({ text }) => !text.includes('\0'))
}

interface Hit {
  readonly file: string
  readonly line: number
  readonly text: string
}

function hits(files: ReadonlyArray<{ path: string; text: string }>, patterns: readonly RegExp[]): Hit[] {
  const found: Hit[] = []
  for (const { path, text } of files) {
    text.split('\n').forEach((line, i) => {
      for (const pattern of patterns) {
        const m = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(line)
        if (m) found.push({ file: path, line: i + 1, text: m[0] })
      }
    })
  }
  return found
}

/**
 * References to things outside the repository. Each pattern is narrow enough
 * to leave alone what the code legitimately says: "issue 1..100 credentials"
 * (issue as a verb), "the issue form", "the issuer", RFC section numbers
 * (`§5.2`), CSS colours (`#888`) and HTML entities (`&#39;`).
 */
const OUTSIDE: readonly RegExp[] = [
  // The team's shared notes, by path or by name.
  /\.\.\/shared\b/,
  /\/work\/(?:shared|main|wt)\b/,
  /\bDESIGN\.md\b/,
  /\bSTYLE\.md\b/,
  // Tracker references: "issue #3", "PR #12", "fixes #7", "owner/repo#4", "GH-5".
  /\b(?:issues?|pr|prs|pull request|tickets?|bugs?)\s*#\s*\d+/i,
  /\b(?:fix(?:es|ed)?|close[sd]?|resolve[sd]?|see|refs?)\s+#\d+\b/i,
  /\b[\w.-]+\/[\w.-]+#\d+\b/,
  /\bGH-\d+\b/,
  /github\.com\/[^\s)]+\/(?:issues|pull)\/\d+/,
  // "issue 4", "issue 3's", "(issue 12", "per issue 7": the noun, not the verb
  // ("may issue 1000 credentials", "issues 5 credentials").
  /\bissues?\s+\d+(?:'s)?(?=\s*(?:$|[^\s\w.]|\.(?!\.)))/i,
  /(?:\(|\b(?:see|per|in|from|by|of|under|after|since|for)\s)\s*issues?\s+\d+/i,
  /\bissue-\d+\b/i,
  /\b(?:see|per|in) the issue\b(?!r| form)/i,
  /\b(?:the|this|that) issue (?:says|asks|wants|lists|requires|describes)\b/i,
]

describe('the repository refers to nothing outside itself', () => {
  const files = trackedFiles().filter(({ path }) => path !== SELF)

  it('tracks the files it checks (a git checkout)', () => {
    expect(files.length).toBeGreaterThan(100)
  })

  it('names no notes outside the repository, and no issue or pull request numbers', () => {
    expect(hits(files, OUTSIDE)).toEqual([])
  })

  it('links Markdown only to paths inside the repository (test/docs.test.ts checks they exist)', () => {
    const bad: Hit[] = []
    for (const { path, text } of files.filter((f) => f.path.endsWith('.md'))) {
      text.split('\n').forEach((line, i) => {
        for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) {
          const target = m[1]!.split('#')[0]!
          if (target === '') continue
          const resolved = resolve(ROOT, dirname(path), target)
          if (/^[a-z][a-z0-9+.-]*:/i.test(target) || isAbsolute(target) || relative(ROOT, resolved).startsWith('..')) {
            bad.push({ file: path, line: i + 1, text: m[1]! })
          }
        }
      })
    }
    expect(bad).toEqual([])
  })

  it("builds no path from a source file's location that leaves the repository", () => {
    // `new URL('../x', import.meta.url)`, `resolve(import.meta.dirname, '../x')`, `join(import.meta.dirname, ...)`.
    const bad: Hit[] = []
    for (const { path, text } of files.filter((f) => /\.(?:ts|mts|cts|js|mjs|cjs)$/.test(f.path))) {
      text.split('\n').forEach((line, i) => {
        const uses = [
          ...line.matchAll(/new URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g),
          ...line.matchAll(/(?:resolve|join)\(\s*import\.meta\.dirname\s*,\s*['"]([^'"]+)['"]/g),
        ]
        for (const m of uses) {
          if (relative(ROOT, resolve(ROOT, dirname(path), m[1]!)).startsWith('..')) bad.push({ file: path, line: i + 1, text: m[0] })
        }
      })
    }
    expect(bad).toEqual([])
  })
})

describe('the reference patterns', () => {
  const [SHARED, DESIGN, STYLE] = [['..', 'shared'].join('/'), ['DESIGN', 'md'].join('.'), ['STYLE', 'md'].join('.')]
  const check = (line: string): boolean => hits([{ path: 'x', text: line }], OUTSIDE).length > 0

  it('catch what points outside', () => {
    for (const line of [
      // built here, so that this file itself names no such note
      `See [${DESIGN}](${SHARED}/${DESIGN}) for the map.`,
      `# Shared dependency versions, one place (${STYLE}: Workspace).`,
      ' * What a broker decides about exchanged tokens (issue 4 "Broker policy").',
      " * is issue 3's).",
      '// see issue 12 for why',
      '// fixed in issue #7',
      '// closes #41',
      '// acme/mqtt-oidc#9',
      '// as the issue says, the lead is 10 minutes',
      '// see the issue',
      'https://github.com/acme/mqtt-oidc/issues/3',
    ])
      expect(check(line), line).toBe(true)
  })

  it('leave alone what the code legitimately says', () => {
    for (const line of [
      ' * POST /admin/brokers/:id/credentials: issue 1..100 credentials at once,',
      "it('lets one admin issue 1000 credentials a minute by default', async () => {",
      "it('issues 5 Cloudflare-style pairs whose tokens carry 48h expiry', async () => {",
      '/** What the issue form had, to show it again with an error. */',
      ' * the issuer that vouched for the subject (RFC 6749 §5.2)',
      "'input{border:1px solid #888}'",
      "expect(title).toBe('Sign in the device &#39;gw-18&#39;?')",
      'pnpm mqtt-oidc broker issue demo --number 5 --expiration 48h',
      '      and issue tracking systems that are managed by, or on behalf of, the',
    ])
      expect(check(line), line).toBe(false)
  })
})
