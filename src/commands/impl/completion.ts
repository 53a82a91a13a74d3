// Completion scripts for bash, zsh and fish, generated from the registry: the commands, their
// subcommands, options (those that take a value, their choices, file arguments) and arguments.
import type { OptionTable } from '../options.js';
import type { CommandSpec } from '../types.js';

const GLOBAL = ['--help', '--version', '--no-color'];

interface Node {
  path: string;
  subs: string[];
  opts: string[];
  /** Options that take a value: '@file' for a file, else the choices (may be empty: free text). */
  valued: Map<string, string>;
  /** The first argument's completion: choices, '@file', or ''. */
  arg: string;
}

function nodes(commands: readonly CommandSpec<any>[], defaultCommand: string): Node[] {
  const out: Node[] = [];
  const visit = (spec: CommandSpec<any>, path: string) => {
    const valued = new Map<string, string>();
    const opts: string[] = ['--help'];
    for (const [name, o] of Object.entries(spec.options as OptionTable)) {
      opts.push(`--${name}`);
      if (o.short) opts.push(`-${o.short}`);
      if (o.type === 'boolean') continue;
      const v = o.type === 'string' && o.choices ? o.choices.join(' ') : (o.type === 'string' || o.type === 'list') && o.file ? '@file' : '';
      valued.set(`--${name}`, v);
      if (o.short) valued.set(`-${o.short}`, v);
    }
    const a = spec.args?.[0];
    out.push({ path, subs: (spec.subcommands ?? []).map((s) => s.name), opts, valued, arg: a ? (a.choices ? a.choices.join(' ') : a.file ? '@file' : '') : '' });
    for (const s of spec.subcommands ?? []) visit(s, `${path} ${s.name}`);
  };
  for (const c of commands) visit(c, c.name);
  // The top level: the commands and `help`; options are the global ones and the default command's.
  const def = out.find((n) => n.path === defaultCommand);
  out.push({ path: '', subs: [...commands.map((c) => c.name), 'help'], opts: [...GLOBAL, ...(def?.opts ?? []).filter((o) => o !== '--help')], valued: def?.valued ?? new Map(), arg: '' });
  out.push({ path: 'help', subs: commands.map((c) => c.name), opts: [], valued: new Map(), arg: '' });
  return out;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** POSIX-shell functions over the table (bash and zsh both run them). */
function shFunctions(ns: Node[]): string {
  const cases = (f: (n: Node) => string) => ns.map((n) => `    ${q(n.path)}) echo ${q(f(n))} ;;`).join('\n');
  const valueCases = ns
    .flatMap((n) => [...n.valued].map(([opt, v]) => `    ${q(`${n.path}|${opt}`)}) echo ${q(v)} ;;`))
    .join('\n');
  return `_canary_subs() {
  case "$1" in
${cases((n) => n.subs.join(' '))}
  esac
}
_canary_opts() {
  case "$1" in
${cases((n) => n.opts.join(' '))}
  esac
}
_canary_valued() {
  case "$1" in
${cases((n) => [...n.valued.keys()].join(' '))}
  esac
}
_canary_values() {
  case "$1|$2" in
${valueCases}
  esac
}
_canary_arg() {
  case "$1" in
${cases((n) => n.arg)}
  esac
}
# The command path (e.g. "audit verify") of the words before the cursor, skipping options and
# their values.
_canary_path() {
  local cpath="" skip=0 w
  for w in "$@"; do
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$w" in
      --*=*) ;;
      -*) case " $(_canary_valued "$cpath") " in *" $w "*) skip=1 ;; esac ;;
      *) case " $(_canary_subs "$cpath") " in *" $w "*) cpath="\${cpath:+$cpath }$w" ;; esac ;;
    esac
  done
  echo "$cpath"
}`;
}

/** How canary is launched, as the shell sees it: `canary` (on PATH, or an alias), `npx canary` (in
 * the checkout) or `node <path>/canary.mjs` (how the README runs it). Each is completed alike;
 * `npx` and `node` only when nothing else completes them, and anything else they run is left to
 * the shell's default (file names). */
const LAUNCHERS = 'npx node';

function bash(ns: Node[]): string {
  return `# canary completion for bash: source <(canary completion bash)
# Completes \`canary ...\`, and \`npx canary ...\` and \`node .../canary.mjs ...\` too.
${shFunctions(ns)}
_canary_complete() {
  # How many words launch canary: 1 (canary), 2 (npx canary, node dist/canary.mjs), 0 (not canary).
  local off=0
  case "\${COMP_WORDS[0]}" in
    npx) [ "\${COMP_WORDS[1]}" = canary ] && [ "$COMP_CWORD" -gt 1 ] && off=2 ;;
    node) case "\${COMP_WORDS[1]}" in *canary.mjs) [ "$COMP_CWORD" -gt 1 ] && off=2 ;; esac ;;
    *) off=1 ;;
  esac
  if [ "$off" = 0 ]; then COMPREPLY=(); return; fi
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev=""
  [ "$COMP_CWORD" -gt "$off" ] && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local cpath; cpath="$(_canary_path "\${COMP_WORDS[@]:off:COMP_CWORD-off}")"
  local words
  if [ -n "$prev" ] && case " $(_canary_valued "$cpath") " in *" $prev "*) true ;; *) false ;; esac; then
    words="$(_canary_values "$cpath" "$prev")"
  elif [[ "$cur" == -* ]]; then
    words="$(_canary_opts "$cpath")"
  else
    words="$(_canary_subs "$cpath")"
    [ -z "$words" ] && words="$(_canary_arg "$cpath")"
  fi
  if [ "$words" = "@file" ]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  fi
}
complete -o default -F _canary_complete canary
for _canary_launcher in ${LAUNCHERS}; do
  complete -p "$_canary_launcher" >/dev/null 2>&1 || complete -o default -F _canary_complete "$_canary_launcher"
done
unset _canary_launcher
`;
}

function zsh(ns: Node[]): string {
  return `#compdef canary
# canary completion for zsh: canary completion zsh > "\${fpath[1]}/_canary"
# Completes \`canary ...\`, and \`npx canary ...\` and \`node .../canary.mjs ...\` too.
${shFunctions(ns)}
_canary() {
  # How many words launch canary: 1 (canary), 2 (npx canary, node dist/canary.mjs).
  local off=1
  if [[ "\${words[1]}" == npx || "\${words[1]}" == node ]]; then
    if (( CURRENT > 2 )) && [[ "\${words[2]}" == canary || "\${words[2]}" == *canary.mjs ]]; then
      off=2
    else
      _default
      return
    fi
  fi
  local cur="\${words[CURRENT]}" prev=""
  (( CURRENT > off + 1 )) && prev="\${words[CURRENT-1]}"
  local cpath; cpath="$(_canary_path "\${(@)words[off+1,CURRENT-1]}")"
  local list
  if [[ -n "$prev" && " $(_canary_valued "$cpath") " == *" $prev "* ]]; then
    list="$(_canary_values "$cpath" "$prev")"
  elif [[ "$cur" == -* ]]; then
    list="$(_canary_opts "$cpath")"
  else
    list="$(_canary_subs "$cpath")"
    [[ -z "$list" ]] && list="$(_canary_arg "$cpath")"
  fi
  if [[ "$list" == "@file" ]]; then
    _files
  else
    compadd -- \${=list}
  fi
}
compdef _canary canary
for _canary_launcher in ${LAUNCHERS}; do
  (( \${+_comps[$_canary_launcher]} )) || compdef _canary "$_canary_launcher"
done
unset _canary_launcher
`;
}

function fish(commands: readonly CommandSpec<any>[]): string {
  const lines = ['# canary completion for fish: canary completion fish > ~/.config/fish/completions/canary.fish', 'complete -c canary -f'];
  const top = commands.map((c) => c.name);
  lines.push(`complete -c canary -n '__fish_use_subcommand' -l version -d 'print the version'`);
  lines.push(`complete -c canary -l no-color -d 'no colours'`);
  lines.push(`complete -c canary -n '__fish_use_subcommand' -a help -d "show a command's help"`);
  lines.push(`complete -c canary -n '__fish_seen_subcommand_from help' -a ${q(top.join(' '))}`);
  const add = (spec: CommandSpec<any>, cond: string) => {
    for (const [name, o] of Object.entries(spec.options as OptionTable)) {
      const desc = q(o.help.length > 80 ? `${o.help.slice(0, 77)}...` : o.help);
      const value = o.type === 'boolean' ? '' : o.type === 'string' && o.choices ? ` -x -a ${q(o.choices.join(' '))}` : (o.type === 'string' || o.type === 'list') && o.file ? ' -r -F' : ' -x';
      lines.push(`complete -c canary -n ${q(cond)} -l ${name}${o.short ? ` -s ${o.short}` : ''}${value} -d ${desc}`);
    }
    const a = spec.args?.[0];
    if (a?.choices) lines.push(`complete -c canary -n ${q(cond)} -a ${q(a.choices.join(' '))}`);
    else if (a?.file) lines.push(`complete -c canary -n ${q(cond)} -F`);
  };
  for (const c of commands) {
    lines.push(`complete -c canary -n '__fish_use_subcommand' -a ${c.name} -d ${q(c.summary)}`);
    if (c.subcommands) {
      const subs = c.subcommands.map((s) => s.name);
      for (const s of c.subcommands) {
        lines.push(`complete -c canary -n ${q(`__fish_seen_subcommand_from ${c.name}; and not __fish_seen_subcommand_from ${subs.join(' ')}`)} -a ${s.name} -d ${q(s.summary)}`);
        add(s, `__fish_seen_subcommand_from ${c.name}; and __fish_seen_subcommand_from ${s.name}`);
      }
    } else add(c, `__fish_seen_subcommand_from ${c.name}`);
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: 'bash' | 'zsh' | 'fish', commands: readonly CommandSpec<any>[], defaultCommand = 'start'): string {
  if (shell === 'fish') return fish(commands);
  const ns = nodes(commands, defaultCommand);
  return shell === 'bash' ? bash(ns) : zsh(ns);
}
