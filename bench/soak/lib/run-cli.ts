import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { BIN } from '../../../test/support/cli-bin.js'
import { SOURCE_EXEC_ARGV } from './app-process.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/**
 * Runs the real `mqtt-oidc` CLI (its bin, in its own process, on the sources) with `args`,
 * `stdin` as its input; resolves with its stdout, rejects with its stderr
 * when it exits non-zero.
 */
export function runCli(args: readonly string[], env: Readonly<Record<string, string>>, stdin = ''): Promise<string> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MQTT_OIDC_')))
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [...SOURCE_EXEC_ARGV, BIN, ...args],
      { cwd: ROOT, env: { ...clean, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`mqtt-oidc ${args.join(' ')} failed: ${stderr.trim() || err.message}`))
        else resolve(stdout)
      },
    )
    child.stdin?.end(stdin)
  })
}
