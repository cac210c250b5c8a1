import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { checkPackageGraph } from '../scripts/check-package-graph.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** A workspace on disk from `{ path: content }` (objects become JSON). */
function workspace(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-oidc-graph-'))
  dirs.push(dir)
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), typeof content === 'string' ? content : JSON.stringify(content))
  }
  return dir
}

const built = (references: string[] = []): unknown => ({
  compilerOptions: { composite: true },
  include: ['src'],
  references: references.map((path) => ({ path })),
})

describe('the package graph', () => {
  it('holds in this repository: imports by name only, all declared, run-time ones as dependencies, references as the dependencies', () => {
    expect(checkPackageGraph(ROOT)).toEqual([])
  })

  it('names each broken rule: a path into another package, an undeclared or dev-only import, an unused dependency, wrong references', () => {
    const dir = workspace({
      'package.json': { name: 'root', devDependencies: { '@x/lib': 'workspace:*' } },
      'tsconfig.build.json': { files: [], references: [{ path: 'packages/lib' }] },
      'test/a.test.ts': "import { helper } from '../packages/lib/test/helper.js'\nimport { lib } from '@x/lib'\n",
      'packages/lib/package.json': { name: '@x/lib', dependencies: { zod: '1', left: '1' }, devDependencies: { pino: '1' } },
      'packages/lib/tsconfig.json': built(['../../apps/app']),
      'packages/lib/src/index.ts': [
        "// import { not } from 'in-a-comment'",
        "import { z } from 'zod'",
        "import type { Logger } from 'pino'",
        "import { readFileSync } from 'node:fs'",
        "import { a } from 'undeclared/sub'",
        "const doc = `import { x } from 'in-a-template'`",
        'export const lib = (s: string) => s',
      ].join('\n'),
      'packages/lib/test/helper.ts': 'export const helper = 1\n',
      'apps/app/package.json': { name: '@x/app', dependencies: { '@x/lib': 'workspace:*' } },
      'apps/app/tsconfig.json': built(),
      'apps/app/src/main.ts': "import { lib } from '@x/lib'\nimport { b } from '../../../packages/lib/src/index.js'\n",
    })
    expect(checkPackageGraph(dir)).toEqual([
      { pkg: '.', file: 'test/a.test.ts', message: 'imports ../packages/lib/test/helper.js by path, a file of @x/lib: import the package by name' },
      {
        pkg: 'apps/app',
        file: 'apps/app/src/main.ts',
        message: 'imports ../../../packages/lib/src/index.js by path, a file of @x/lib: import the package by name',
      },
      { pkg: 'apps/app', file: 'apps/app/tsconfig.json', message: 'does not reference packages/lib, a workspace dependency' },
      { pkg: 'packages/lib', file: 'packages/lib/src/index.ts', message: 'imports pino at run time, which its package.json declares as a devDependency only' },
      { pkg: 'packages/lib', file: 'packages/lib/src/index.ts', message: 'imports undeclared, which its package.json does not declare' },
      { pkg: 'packages/lib', file: 'packages/lib/package.json', message: 'declares the dependency left, which nothing it runs imports' },
      { pkg: 'packages/lib', file: 'packages/lib/tsconfig.json', message: 'references apps/app, which is not among its workspace dependencies' },
      { pkg: '.', file: 'tsconfig.build.json', message: 'does not build apps/app' },
    ])
  })
})
