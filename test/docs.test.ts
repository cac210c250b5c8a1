import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')

/** The Markdown files git tracks, with docs/architecture.md, the map, always among them. */
function markdownFiles(): string[] {
  const tracked = execFileSync('git', ['ls-files', '-z', '*.md'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean)
  return [...new Set([...tracked, 'docs/architecture.md'])].filter((path) => existsSync(join(ROOT, path)))
}

/** Where a repository path may start: the top-level directories a document names files in. */
const REPO_PATH = /^(?:apps|packages|docs|scripts|test|bench|deploy|\.ci)\//

/** Repository paths a Markdown file names: link targets (relative to the file) and `code` spans starting at a top-level directory. */
function namedPaths(file: string, text: string): string[] {
  const paths: string[] = []
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!.split('#')[0]!
    if (target !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(target))
      paths.push(resolve(ROOT, dirname(file), target).slice(ROOT.length).replace(/^\//, '') + (target.endsWith('/') ? '/' : ''))
  }
  for (const m of text.matchAll(/`([^`\s]+)`/g)) {
    const span = m[1]!.replace(/[.,;:]$/, '')
    // Placeholders (`apps/<app>/src/main.ts`, `apps/*/src/config.ts`) name a family of files, not one.
    if (REPO_PATH.test(span) && !/[<>*${}]/.test(span)) paths.push(span)
  }
  return paths
}

describe('the documentation', () => {
  it('names only files and directories of the repository that exist', () => {
    const missing: string[] = []
    for (const file of markdownFiles()) {
      for (const path of namedPaths(file, read(file))) {
        if (!existsSync(join(ROOT, path))) missing.push(`${file}: ${path}`)
      }
    }
    expect(missing).toEqual([])
  })

  it('links docs/architecture.md from the README', () => {
    expect(read('README.md')).toContain('](docs/architecture.md)')
  })

  it('says in the README every Debian package `npm test` installs', () => {
    // scripts/ensure-test-deps.mjs names each package it installs as `pkg: '<name>'`; podman's come
    // from scripts/podman-setup.sh's PACKAGES. The README's test paragraph must name them all.
    const ensure = read('scripts/ensure-test-deps.mjs')
    const podman = /^PACKAGES=\(([^)]*)\)/m.exec(read('scripts/podman-setup.sh'))![1]!.trim().split(/\s+/)
    const packages = new Set([...[...ensure.matchAll(/pkg: '([a-z0-9][a-z0-9.+-]*)'/g)].map((m) => m[1]!), ...podman])
    expect(packages.size).toBeGreaterThan(10)
    const paragraph = /On Debian as root, `npm test`[\s\S]*?\n\n/.exec(read('README.md'))?.[0] ?? ''
    expect([...packages].filter((pkg) => !new RegExp(`(?<![\\w.+-])${pkg.replace(/[.+]/g, '\\$&')}(?![\\w.+-])`).test(paragraph))).toEqual([])
  })

  it("has CI install every package the tests check for, outside podman's", () => {
    const ensure = read('scripts/ensure-test-deps.mjs')
    const podman = new Set(/^PACKAGES=\(([^)]*)\)/m.exec(read('scripts/podman-setup.sh'))![1]!.trim().split(/\s+/))
    const checked = [...ensure.matchAll(/pkg: '([a-z0-9][a-z0-9.+-]*)'/g)].map((m) => m[1]!).filter((pkg) => !podman.has(pkg))
    const ci = /apt-get[^\n]* install [^\n]*/.exec(read('.ci/run'))![0].split(/\s+/)
    expect([...new Set(checked)].filter((pkg) => !ci.includes(pkg))).toEqual([])
  })
})
