import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, relative, resolve, sep } from 'node:path'

/**
 * The package graph's rules, checked on the files themselves (test/package-graph.test.ts
 * runs this over the repository; `pnpm check:graph` prints what it finds):
 *
 * - a file imports other workspace packages by name, never by a path into
 *   their directory (`../../packages/x/src/...`, `../apps/y/test/...`);
 * - every package it imports by name is declared in its package.json, and
 *   what src/ and bin/ need at run time is a dependency, not a devDependency;
 * - every dependency declared is used (imported, or named in a string, as a
 *   logger transport or a worker's driver is);
 * - each built package's tsconfig.json references exactly the built
 *   workspace packages it depends on, and tsconfig.build.json builds them all.
 *
 * The root package (the repository's own package.json) owns test/, bench/ and
 * scripts/; its run-time files are ROOT_RUNTIME_FILES, the rest is for development.
 */
export interface GraphProblem {
  /** The package.json's directory, relative to the root ('.' for the root package). */
  readonly pkg: string
  /** The file at fault, relative to the root. */
  readonly file: string
  readonly message: string
}

/** Files of the root package that run in production (the image runs them with production dependencies only). */
export const ROOT_RUNTIME_FILES: readonly string[] = ['scripts/start-stack.ts', 'scripts/healthcheck.mjs']

const SOURCE_FILE = /\.(ts|mts|cts|js|mjs|cjs)$/
const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const

interface Manifest {
  name: string
  bin?: Record<string, string>
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
}

interface Pkg {
  readonly dir: string
  readonly manifest: Manifest
  readonly files: string[]
}

/** Every problem found under `root` (a pnpm workspace whose packages live in apps/* and packages/*); empty when the graph is sound. */
export function checkPackageGraph(rootDir: string): GraphProblem[] {
  const root = resolve(rootDir)
  const packages = findPackages(root)
  const byName = new Map(packages.map((p) => [p.manifest.name, p]))
  const problems: GraphProblem[] = []
  for (const pkg of packages) problems.push(...checkImports(root, pkg, packages, byName), ...checkTsconfig(root, pkg, byName))
  problems.push(...checkBuildList(root, packages))
  return problems
}

function findPackages(root: string): Pkg[] {
  const dirs = ['apps', 'packages'].flatMap((group) =>
    existsSync(join(root, group))
      ? readdirSync(join(root, group))
          .map((d) => join(root, group, d))
          .filter((d) => existsSync(join(d, 'package.json')))
      : [],
  )
  const packages = dirs.map((dir) => ({ dir, manifest: readJson(join(dir, 'package.json')) as Manifest, files: listFiles(dir, ['node_modules', 'dist']) }))
  const rootFiles = listFiles(root, ['node_modules', 'dist', 'apps', 'packages', '.git'])
  return [{ dir: root, manifest: readJson(join(root, 'package.json')) as Manifest, files: rootFiles }, ...packages]
}

function checkImports(root: string, pkg: Pkg, packages: readonly Pkg[], byName: ReadonlyMap<string, Pkg>): GraphProblem[] {
  const problems: GraphProblem[] = []
  const at = (file: string, message: string): void => {
    problems.push({ pkg: relative(root, pkg.dir) || '.', file: relative(root, file), message })
  }
  const declared = new Map<string, string>()
  for (const field of DEPENDENCY_FIELDS) for (const name of Object.keys(pkg.manifest[field] ?? {})) if (!declared.has(name)) declared.set(name, field)
  const usedAtRunTime = new Set<string>()
  const mentioned = new Set<string>()
  for (const file of pkg.files) {
    const text = readFileSync(file, 'utf8')
    const code = stripComments(text)
    const runtime = isRuntimeFile(root, pkg, file)
    for (const spec of specifiersOf(code)) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec)
        const owner = ownerOf(target, packages)
        if (owner !== pkg) at(file, `imports ${spec} by path, a file of ${owner ? owner.manifest.name : 'no package'}: import the package by name`)
        continue
      }
      if (spec.startsWith('#') || spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!)) continue
      const name = packageName(spec)
      if (name === pkg.manifest.name) continue
      const field = declared.get(name)
      if (field === undefined) at(file, `imports ${name}, which its package.json does not declare`)
      else if (runtime && field === 'devDependencies') at(file, `imports ${name} at run time, which its package.json declares as a devDependency only`)
      if (runtime) usedAtRunTime.add(name)
    }
    if (runtime) for (const m of code.matchAll(/['"]((?:@[\w.-]+\/)?[\w.-]+)(?:\/[^'"]*)?['"]/g)) mentioned.add(m[1]!)
  }
  for (const name of Object.keys(pkg.manifest.dependencies ?? {})) {
    const typesOf = name.startsWith('@types/') ? name.slice('@types/'.length).replace(/^(.+)__(.+)$/, '@$1/$2') : undefined
    if (usedAtRunTime.has(name) || mentioned.has(name) || (typesOf !== undefined && usedAtRunTime.has(typesOf))) continue
    // A workspace package with a command (bin) is a dependency for that command.
    if (byName.get(name)?.manifest.bin !== undefined) continue
    at(join(pkg.dir, 'package.json'), `declares the dependency ${name}, which nothing it runs imports`)
  }
  return dedupe(problems)
}

function dedupe(problems: readonly GraphProblem[]): GraphProblem[] {
  const seen = new Set<string>()
  return problems.filter((p) => {
    const key = `${p.file}\u0000${p.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

function checkTsconfig(root: string, pkg: Pkg, byName: ReadonlyMap<string, Pkg>): GraphProblem[] {
  if (pkg.dir === root) return []
  const tsconfigPath = join(pkg.dir, 'tsconfig.json')
  if (!isBuilt(pkg.dir)) return []
  const tsconfig = readJson(tsconfigPath) as { references?: Array<{ path: string }> }
  const referenced = new Set((tsconfig.references ?? []).map((r) => resolve(pkg.dir, r.path)))
  const expected = new Set(
    Object.keys(pkg.manifest.dependencies ?? {})
      .map((n) => byName.get(n))
      .filter((p): p is Pkg => p !== undefined && isBuilt(p.dir))
      .map((p) => p.dir),
  )
  const problems: GraphProblem[] = []
  const at = (message: string): void => {
    problems.push({ pkg: relative(root, pkg.dir), file: relative(root, tsconfigPath), message })
  }
  for (const dir of expected) if (!referenced.has(dir)) at(`does not reference ${relative(root, dir)}, a workspace dependency`)
  for (const dir of referenced) if (!expected.has(dir)) at(`references ${relative(root, dir)}, which is not among its workspace dependencies`)
  return problems
}

function checkBuildList(root: string, packages: readonly Pkg[]): GraphProblem[] {
  const buildPath = join(root, 'tsconfig.build.json')
  if (!existsSync(buildPath)) return []
  const build = readJson(buildPath) as { references?: Array<{ path: string }> }
  const referenced = new Set((build.references ?? []).map((r) => resolve(root, r.path)))
  return packages
    .filter((p) => p.dir !== root && isBuilt(p.dir) && !referenced.has(p.dir))
    .map((p) => ({ pkg: '.', file: 'tsconfig.build.json', message: `does not build ${relative(root, p.dir)}` }))
}

/** A package is built when its tsconfig.json is a composite project (tsc -b). */
function isBuilt(dir: string): boolean {
  const path = join(dir, 'tsconfig.json')
  return existsSync(path) && (readJson(path) as { compilerOptions?: { composite?: boolean } }).compilerOptions?.composite === true
}

function isRuntimeFile(root: string, pkg: Pkg, file: string): boolean {
  const rel = relative(pkg.dir, file).split(sep).join('/')
  if (pkg.dir === root) return ROOT_RUNTIME_FILES.includes(rel)
  return rel.startsWith('src/') || rel.startsWith('bin/')
}

/** The package whose directory holds `path` (the deepest one); the root package holds what no other does. */
function ownerOf(path: string, packages: readonly Pkg[]): Pkg | undefined {
  let best: Pkg | undefined
  for (const p of packages) {
    if ((path === p.dir || path.startsWith(p.dir + sep)) && (!best || p.dir.length > best.dir.length)) best = p
  }
  return best
}

function packageName(spec: string): string {
  const parts = spec.split('/')
  return spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!
}

/**
 * Module specifiers of static imports and re-exports (statements at the start
 * of a line), dynamic imports, require() and `new URL('./x', import.meta.url)`.
 */
function specifiersOf(code: string): string[] {
  const found: string[] = []
  const patterns = [
    /(?:^|[\n;])\s*(?:import|export)\s[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /(?:^|[\n;])\s*import\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire(?:\.resolve)?\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bnew\s+URL\s*\(\s*['"](\.[^'"]*)['"]\s*,\s*import\.meta\.url\s*\)/g,
  ]
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) found.push(m[1]!)
  return found
}

/** The code without its comments and template literals (a documentation example is not an import); strings stay. */
function stripComments(text: string): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    const next = text[i + 1]
    if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end === -1 ? text.length : end + 2
    } else if (c === "'" || c === '"') {
      const start = i++
      while (i < text.length && text[i] !== c && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1
      out += text.slice(start, ++i)
    } else if (c === '`') {
      i++
      while (i < text.length && text[i] !== '`') i += text[i] === '\\' ? 2 : 1
      i++
      out += '``'
    } else {
      out += c
      i++
    }
  }
  return out
}

function listFiles(dir: string, skip: readonly string[]): string[] {
  const files: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') && entry.isDirectory()) continue
    if (skip.includes(entry.name)) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) files.push(...listFiles(path, ['node_modules', 'dist']))
    else if (SOURCE_FILE.test(entry.name) && statSync(path).isFile()) files.push(path)
  }
  return files
}

function readJson(path: string): unknown {
  // tsconfig files may carry comments and trailing commas.
  const text = readFileSync(path, 'utf8')
  return JSON.parse(stripComments(text).replace(/,(\s*[}\]])/g, '$1'))
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const problems = checkPackageGraph(resolve(dirname(new URL(import.meta.url).pathname), '..'))
  for (const p of problems) process.stdout.write(`${p.file}: ${p.message}\n`)
  process.stdout.write(problems.length === 0 ? 'package graph: sound\n' : `package graph: ${problems.length} problem(s)\n`)
  process.exitCode = problems.length === 0 ? 0 : 1
}
