// The registry's commands turned into a commander program: dispatch, `canary help [cmd]`,
// `canary <cmd> --help` (usage, options with their ranges, examples), --version, --no-color, and
// usage errors as UsageError (exit 2) with a hint where the command's help is.
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { applyToProcess, readEnv } from '../env.js';
import { packageVersion } from '../paths.js';
import { UsageError } from './errors.js';
import { optionHelp, parseNumber, type OptionTable, type OptSpec, type ValuesOf } from './options.js';
import type { CommandSpec, Ctx } from './types.js';

/** `--no-journal` is commander's negation of `--journal`: the attribute it sets, and how. */
function attribute(name: string, o: OptSpec): { key: string; negated: boolean } {
  const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  if (o.type === 'boolean' && name.startsWith('no-')) return { key: camel(name.slice(3)), negated: true };
  return { key: camel(name), negated: false };
}

function toOption(name: string, o: OptSpec): Option {
  const flags = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'boolean' ? '' : ` <${o.arg}>`}`;
  const opt = new Option(flags, optionHelp(o));
  if (o.type === 'number') opt.argParser((v: string) => parseNumber(o, v));
  if (o.type === 'list') opt.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
  if (o.type === 'string') {
    if (o.choices) opt.choices(o.choices);
    const check = o.check;
    if (check)
      opt.argParser((v: string) => {
        const problem = check(v);
        if (problem) throw new InvalidArgumentError(problem);
        return v;
      });
  }
  return opt;
}

/** commander's parsed options, keyed as the table is. */
export function valuesFrom(table: OptionTable, opts: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(table)) {
    const { key, negated } = attribute(name, o);
    const v = opts[key];
    if (negated) values[name] = v === false ? true : undefined;
    else if (o.type === 'boolean') values[name] = v === true ? true : undefined;
    else values[name] = v === false || v === true ? undefined : v;
  }
  return values;
}

function examplesText(spec: CommandSpec<any>): string {
  const lines: string[] = [];
  if (spec.details) lines.push('', spec.details);
  if (spec.examples.length) {
    lines.push('', 'Examples:');
    const w = Math.min(60, Math.max(...spec.examples.map((e) => e.cmd.length)));
    for (const e of spec.examples) lines.push(e.cmd.length > w ? `  ${e.cmd}\n  ${' '.repeat(w)}  # ${e.what}` : `  ${e.cmd.padEnd(w)}  # ${e.what}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export const EXIT_CODES = `Exit codes:
  0    success (run --headless: completed, or the --until point was reached)
  1    the plan or the environment is wrong (file:line:col, the key, what to do)
  2    usage: unknown command or option, or a bad option value (see canary <cmd> --help)
  3    run --headless: rolled back; rollback: not confirmed in every cluster
  4    run --headless: held, waiting for a person
  5    run --headless: a source stayed unavailable past the plan's noDataAfter
  130  stopped by SIGINT/SIGTERM, after effects in flight were confirmed`;

export interface Built {
  program: Command;
  /** Set once a command's action has run: its exit code. */
  result: () => number | undefined;
}

/** Builds the program: every command of the registry (and their subcommands), `isDefault` on
 * `defaultCommand`. A command's help and its usage errors name its full path (`canary audit verify`). */
/** `ctx.environ`: the environment the commands read (src/env.ts readEnv; default the process's). */
export function buildProgram(commands: readonly CommandSpec<any>[], ctx: Omit<Ctx, 'env' | 'commands'> & { environ?: NodeJS.ProcessEnv }, defaultCommand: string): Built {
  let code: number | undefined;
  const program = new Command('canary');
  program
    .description('a terminal command center for progressive rollouts')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--no-color', 'no colours (as NO_COLOR=1 does)')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', "show a command's help")
    .addHelpText('after', `\n${EXIT_CODES}\n\nRun 'canary <command> --help' for a command's options and examples.\n`);
  const wire = (parent: Command, spec: CommandSpec<any>, path: string[]) => {
    const cmd = new Command(spec.name);
    const full = ['canary', ...path, spec.name].join(' ');
    cmd.description(spec.summary).summary(spec.summary);
    cmd.helpOption('-h, --help', 'show help');
    for (const a of spec.args ?? []) {
      const arg = new Argument(a.required ? `<${a.name}>` : `[${a.name}]`, a.help);
      if (a.choices) arg.choices(a.choices);
      cmd.addArgument(arg);
    }
    for (const [name, o] of Object.entries(spec.options as OptionTable)) cmd.addOption(toOption(name, o));
    cmd.addHelpText('after', examplesText(spec));
    configure(cmd, full);
    if (spec.subcommands) {
      for (const sub of spec.subcommands) wire(cmd, sub, [...path, spec.name]);
      cmd.helpCommand(false);
      cmd.action(() => {
        throw new UsageError(`${full} needs a subcommand: ${spec.subcommands!.map((s) => s.name).join(', ')}`, full);
      });
    } else if (spec.run) {
      const run = spec.run;
      cmd.action(async (...a: unknown[]) => {
        const self = a[a.length - 1] as Command;
        const args = (a.slice(0, (spec.args ?? []).length) as (string | undefined)[]).filter((x): x is string => x !== undefined);
        const global = program.opts<{ color?: boolean }>();
        const env = readEnv(ctx.environ, { noColor: global.color === false, terminal: ctx.out.isTTY === true });
        // Components (chalk under Ink, the theme) read NO_COLOR/FORCE_COLOR (and Ink CI) from the
        // process; child processes get the environment through env.vars.
        applyToProcess(env);
        const r = await run(valuesFrom(spec.options, self.opts()) as ValuesOf<OptionTable>, args, { ...ctx, env, commands });
        code = typeof r === 'number' ? r : 0;
      });
    }
    parent.addCommand(cmd, spec.name === defaultCommand ? { isDefault: true } : {});
  };
  const configure = (cmd: Command, full: string) => {
    cmd.exitOverride((err) => {
      // --help and --version end here too: not errors.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') throw err;
      const text = err.message.replace(/^error: /, '').replace(/\s+$/, '');
      throw new UsageError(text, full);
    });
    cmd.configureOutput({
      writeOut: (s) => ctx.out.write(s),
      // commander's own error line is replaced by ours (UsageError, printed once by src/cli.ts).
      writeErr: (s) => {
        if (!s.startsWith('error:')) ctx.err.write(s);
      },
    });
  };
  configure(program, 'canary');
  for (const spec of commands) wire(program, spec, []);
  return { program, result: () => code };
}

export { CommanderError };
