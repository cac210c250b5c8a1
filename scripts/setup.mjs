#!/usr/bin/env node
// Installs the workspace from a machine that has only Node 20 and npm:
// fetches the pinned pnpm through npx (from the npm registry) and installs
// the locked dependencies. Safe to run again: an up-to-date install is a no-op.
// With --build it then compiles every package and app to dist/ (`tsc -b`,
// incremental: a fraction of a second when nothing changed), which is what
// `npm start` and `npx mqtt-oidc` run.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const PNPM = 'pnpm@12.4.2'
const root = join(dirname(fileURLToPath(import.meta.url)), '..')

const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`mqtt-oidc: Node ${process.versions.node} is too old; install Node 20.19 or newer`)
  process.exit(1)
}

// better-sqlite3 compiles against Node's headers when no prebuilt binary can
// be fetched; point node-gyp at the headers this Node ships instead of the
// internet.
const env = { ...process.env }
const prefix = dirname(dirname(process.execPath))
if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node.h'))) env.npm_config_nodedir = prefix

const args = ['--yes', PNPM, 'install', '--frozen-lockfile', '--reporter=append-only']
const result = spawnSync('npx', args, { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] })
if (result.status !== 0) {
  console.error(`mqtt-oidc: installing dependencies failed (npx ${args.join(' ')})`)
  process.exit(result.status ?? 1)
}

if (process.argv.includes('--build')) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const build = spawnSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] })
  if (build.status !== 0) {
    console.error('mqtt-oidc: the build failed (tsc -b tsconfig.build.json)')
    process.exit(build.status ?? 1)
  }
}
