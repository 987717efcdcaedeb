import type { Command } from './commands.js';
import { FILE_OPTIONS, INVENTORY_OPTIONS, PROGRAM_COMMANDS, completionWords } from './cli-options.js';

/*
 * Shell completion, made from the same tables the parser reads, so a new command or option
 * completes without touching this file. Install: `jitsi-scale completion bash > \
 * /etc/bash_completion.d/jitsi-scale`, or for zsh into a folder on $fpath as _jitsi-scale.
 */

function caseArms(commands: readonly Command[], arm: (name: string, words: string) => string): string {
  return commands.map((c) => arm(c.name, completionWords(c).join(' '))).join('\n');
}

export function bashCompletion(commands: readonly Command[], defaultCommand: string): string {
  const names = [...commands.map((c) => c.name), ...PROGRAM_COMMANDS].join(' ');
  return `# bash completion for jitsi-scale
_jitsi_scale() {
  local cur prev cmd words_for i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    ${FILE_OPTIONS.join('|')}) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
  esac
  cmd=${defaultCommand}
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  if [ "$COMP_CWORD" -eq 1 ] && [[ "$cur" != -* ]]; then
    COMPREPLY=( $(compgen -W "${names}" -- "$cur") ); return
  fi
  case "$cmd" in
${caseArms(commands, (name, words) => `    ${name}) words_for="${words}" ;;`)}
    inventory) words_for="${INVENTORY_OPTIONS.join(' ')}" ;;
    help) COMPREPLY=( $(compgen -W "${commands.map((c) => c.name).join(' ')}" -- "$cur") ); return ;;
    completion) COMPREPLY=( $(compgen -W "bash zsh" -- "$cur") ); return ;;
    *) words_for="" ;;
  esac
  COMPREPLY=( $(compgen -W "$words_for" -- "$cur") )
}
complete -F _jitsi_scale jitsi-scale
`;
}

export function zshCompletion(commands: readonly Command[], defaultCommand: string): string {
  const names = commands.map((c) => `'${c.name}:${c.summary.replace(/'/g, "'\\''")}'`);
  return `#compdef jitsi-scale
# zsh completion for jitsi-scale
_jitsi_scale() {
  local -a commands opts
  local cmd=${defaultCommand} w
  commands=(${names.join(' ')} 'inventory:show the inventory and each connection' 'completion:print shell completion' 'help:show help for a command')
  for w in \${words[2,CURRENT-1]}; do
    [[ $w != -* ]] && { cmd=$w; break; }
  done
  case \${words[CURRENT-1]} in
    ${FILE_OPTIONS.join('|')}) _files; return ;;
  esac
  if (( CURRENT == 2 )) && [[ \${words[CURRENT]} != -* ]]; then
    _describe 'command' commands; return
  fi
  case $cmd in
${caseArms(commands, (name, words) => `    ${name}) opts=(${words}) ;;`)}
    inventory) opts=(${INVENTORY_OPTIONS.join(' ')}) ;;
    help) compadd ${commands.map((c) => c.name).join(' ')}; return ;;
    completion) compadd bash zsh; return ;;
  esac
  compadd -- $opts
}
compdef _jitsi_scale jitsi-scale 2>/dev/null || _jitsi_scale "$@"
`;
}
