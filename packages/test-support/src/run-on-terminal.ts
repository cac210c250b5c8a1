import { runCommand, type CommandRun } from './run-command.js'
import { SOURCE_EXEC_ARGV } from './run-tsx.js'

const sh = (word: string): string => `'${word.replace(/'/g, "'\\''")}'`

/**
 * Runs `node <SOURCE_EXEC_ARGV> <script> ...args` with stdin, stdout and
 * stderr on one pseudo-terminal (util-linux `script`), as a person at a
 * terminal runs it: isTTY is true on all three. `input` is typed into the
 * terminal (it echoes there, as typing does). stdout holds everything the
 * terminal showed, with its \r\n made \n; 200 columns wide.
 */
export async function runOnTerminal(
  script: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<CommandRun> {
  const line = [process.execPath, ...SOURCE_EXEC_ARGV, script, ...args].map(sh).join(' ')
  const r = await runCommand('script', ['-qec', line, '/dev/null'], {
    env: { ...process.env, ...options.env, COLUMNS: '200' },
    cwd: options.cwd,
    input: options.input,
  })
  return { ...r, stdout: r.stdout.replace(/\r\n/g, '\n') }
}
