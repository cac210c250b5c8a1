import type { Command } from 'commander'
import { InvalidArgumentError } from 'commander'
import type { CliIo } from '../lib/cli-io.js'

const SHELLS = ['bash', 'zsh', 'fish'] as const
type Shell = (typeof SHELLS)[number]

/**
 * `completion bash|zsh|fish`: a completion script for the shell, made from
 * the command tree itself (so it never lags behind a new command or option).
 * Static: completing costs the shell nothing, no CLI start per Tab.
 */
export function addCompletionCommand(program: Command, io: CliIo): void {
  program
    .command('completion')
    .description('print a shell completion script: bash, zsh or fish')
    .argument('<shell>', 'bash, zsh or fish', parseShell)
    .addHelpText(
      'after',
      `
Install:
  bash  echo 'source <(mqtt-oidc completion bash)' >> ~/.bashrc
  zsh   echo 'source <(mqtt-oidc completion zsh)' >> ~/.zshrc
  fish  mqtt-oidc completion fish > ~/.config/fish/completions/mqtt-oidc.fish`,
    )
    .action((shell: Shell) => {
      const tree = commandTree(program)
      io.stdout.write(shell === 'fish' ? fishScript(tree) : bashScript(tree, shell === 'zsh'))
    })
}

function parseShell(value: string): Shell {
  const shell = SHELLS.find((s) => s === value)
  if (shell === undefined) throw new InvalidArgumentError('the shell must be bash, zsh or fish.')
  return shell
}

interface Node {
  /** Words from the root: '' for the root, 'broker issue' for a leaf. */
  readonly path: string
  readonly name: string
  readonly description: string
  readonly subcommands: readonly string[]
  readonly options: ReadonlyArray<{ readonly long?: string | undefined; readonly short?: string | undefined; readonly description: string }>
}

function commandTree(program: Command): Node[] {
  const nodes: Node[] = []
  const visit = (cmd: Command, path: string): void => {
    const visible = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden)
    nodes.push({
      path,
      name: cmd.name(),
      description: cmd.description(),
      subcommands: visible.map((c) => c.name()),
      options: [
        ...cmd.options.filter((o) => !o.hidden),
        ...(cmd.commands.length === 0 ? [{ long: '--help', short: '-h', description: 'display help' }] : []),
      ].map((o) => ({ long: o.long, short: o.short, description: o.description })),
    })
    for (const c of visible) visit(c, path === '' ? c.name() : `${path} ${c.name()}`)
  }
  visit(program, '')
  return nodes
}

const quote = (text: string): string => `'${text.replace(/'/g, "'\\''")}'`

function bashScript(tree: readonly Node[], zsh: boolean): string {
  const cases = tree
    .map((n) => {
      const subs = n.subcommands.join(' ')
      const opts = n.options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined)).join(' ')
      return `    ${quote(n.path)}) subs=${quote(subs)}; opts=${quote(opts)} ;;`
    })
    .join('\n')
  return `${zsh ? '#compdef mqtt-oidc\n# zsh: through bash completion (bashcompinit)\nautoload -U +X bashcompinit && bashcompinit\n' : ''}# mqtt-oidc completion for ${zsh ? 'zsh' : 'bash'}: source <(mqtt-oidc completion ${zsh ? 'zsh' : 'bash'})
_mqtt_oidc_words() {
  case "$1" in
${cases}
    *) subs=''; opts='' ;;
  esac
}
_mqtt_oidc() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path='' word i subs opts
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    _mqtt_oidc_words "$path"
    case " $subs " in *" $word "*) path="\${path:+$path }$word" ;; esac
  done
  _mqtt_oidc_words "$path"
  if [[ "$cur" == -* || -z "$subs" ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    [[ "$cur" != -* && \${#COMPREPLY[@]} -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  fi
  return 0
}
complete -F _mqtt_oidc mqtt-oidc
`
}

function fishScript(tree: readonly Node[]): string {
  const lines = ['# mqtt-oidc completion for fish: mqtt-oidc completion fish > ~/.config/fish/completions/mqtt-oidc.fish', 'complete -c mqtt-oidc -f']
  const byPath = new Map(tree.map((n) => [n.path, n]))
  // The command line so far names exactly this path: its words are seen, and none of its subcommands yet.
  const at = (n: Node): string => {
    if (n.path === '') return '__fish_use_subcommand'
    const words = n.path.split(' ')
    const seen = words.map((w) => `__fish_seen_subcommand_from ${w}`).join('; and ')
    return n.subcommands.length > 0 ? `${seen}; and not __fish_seen_subcommand_from ${n.subcommands.join(' ')}` : seen
  }
  for (const n of tree) {
    for (const sub of n.subcommands) {
      const child = byPath.get(n.path === '' ? sub : `${n.path} ${sub}`)
      lines.push(`complete -c mqtt-oidc -n ${quote(at(n))} -a ${sub} -d ${quote(child?.description ?? '')}`)
    }
    for (const o of n.options) {
      const flags = [o.long ? `-l ${o.long.replace(/^--/, '')}` : '', o.short ? `-s ${o.short.replace(/^-/, '')}` : ''].filter(Boolean).join(' ')
      if (flags !== '') lines.push(`complete -c mqtt-oidc -n ${quote(at(n))} ${flags} -d ${quote(o.description)}`)
    }
  }
  return `${lines.join('\n')}\n`
}
