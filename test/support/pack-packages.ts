import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCommand } from '@mqtt-oidc/test-support/run-command'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TSC = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc')

interface Manifest {
  name: string
  version: string
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

/** A packed workspace package: its tarball and the manifest inside it. */
export interface Packed {
  readonly dir: string
  readonly tarball: string
  readonly manifest: Manifest & { files?: string[] }
  /** The paths in the tarball (without the `package/` prefix). */
  readonly files: string[]
}

/**
 * Builds `packages` (directories under packages/, dependencies first) and
 * packs each with `pnpm pack`, as a release would, without touching this
 * checkout: the sources are copied to `workDir` (with the workspace's
 * tsconfig base, catalog and LICENSE), compiled there by `tsc -b` into a
 * fresh dist/, and packed from there, so no stale or missing build of the
 * checkout can end up in a tarball. Third-party dependencies are the
 * checkout's installed ones, linked, for the compiler only.
 */
export async function packPackages(packages: readonly string[], workDir: string): Promise<Map<string, Packed>> {
  const ws = join(workDir, 'workspace')
  for (const file of ['package.json', 'pnpm-workspace.yaml', 'tsconfig.base.json', 'LICENSE', '.npmrc']) cpSync(join(ROOT, file), join(ws, file))
  const names = new Map(packages.map((dir) => [readManifest(join(ROOT, 'packages', dir)).name, dir]))
  for (const dir of packages) {
    const from = join(ROOT, 'packages', dir)
    const to = join(ws, 'packages', dir)
    for (const entry of ['package.json', 'tsconfig.json', 'src', 'bin', 'README.md', 'LICENSE']) {
      if (existsSync(join(from, entry))) cpSync(join(from, entry), join(to, entry), { recursive: true })
    }
    const manifest = readManifest(from)
    // What the compiler needs (the dependencies, and the type packages among the dev dependencies), and
    // what pnpm pack reads the version of (workspace dev dependencies: it rewrites their `workspace:` too).
    const dev = Object.entries(manifest.devDependencies ?? {})
      .filter(([name, spec]) => name.startsWith('@types/') || spec.startsWith('workspace:'))
      .map(([name]) => name)
    const needed = [...Object.keys(manifest.dependencies ?? {}), ...dev]
    for (const name of needed) {
      const sibling = names.get(name)
      link(join(to, 'node_modules', name), sibling !== undefined ? join(ws, 'packages', sibling) : realpathSync(join(from, 'node_modules', name)))
    }
  }
  link(join(ws, 'node_modules', '@types', 'node'), realpathSync(join(ROOT, 'node_modules', '@types', 'node')))
  const build = await runCommand(process.execPath, [TSC, '-b', ...packages.map((dir) => join(ws, 'packages', dir))], { cwd: ws })
  if (build.code !== 0) throw new Error(`tsc -b failed: ${build.stdout}${build.stderr}`)

  const out = join(workDir, 'tarballs')
  mkdirSync(out, { recursive: true })
  const packed = new Map<string, Packed>()
  for (const dir of packages) {
    const pack = await runCommand('npx', ['--yes', 'pnpm@12.4.2', 'pack', '--pack-destination', out], { cwd: join(ws, 'packages', dir) })
    if (pack.code !== 0) throw new Error(`pnpm pack in ${dir} failed: ${pack.stdout}${pack.stderr}`)
    const manifest = readManifest(join(ws, 'packages', dir))
    const tarball = join(out, `${manifest.name.replace('@', '').replace('/', '-')}-${manifest.version}.tgz`)
    const list = await runCommand('tar', ['-tzf', tarball], {})
    const inner = await runCommand('tar', ['-xzOf', tarball, 'package/package.json'], {})
    packed.set(dir, {
      dir,
      tarball,
      manifest: JSON.parse(inner.stdout) as Packed['manifest'],
      files: list.stdout
        .split('\n')
        .filter(Boolean)
        .map((f) => f.replace(/^package\//, ''))
        .sort(),
    })
  }
  return packed
}

/** Writes `files` (path → text) under `dir`. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
}

function link(path: string, target: string): void {
  mkdirSync(dirname(path), { recursive: true })
  symlinkSync(relative(dirname(path), target), path)
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest
}

/** The TypeScript compiler of this checkout (the consumer project compiles with it). */
export const TYPESCRIPT_COMPILER = TSC
