// What a command is: a name, one line of summary, its arguments, its option table, examples, and
// `run`, which loads the command's implementation with a dynamic import() (so `canary start`
// never loads the war room, the Kubernetes client or Prometheus's client, and help loads nothing).
import type { CanaryEnv } from '../env.js';
import type { OptionTable, ValuesOf } from './options.js';

export interface ArgSpec {
  /** `<journal>` (required) or `[url]` (optional). */
  name: string;
  required: boolean;
  help: string;
  /** Values offered by completion (and checked). */
  choices?: readonly string[];
  file?: boolean;
}

export interface Example {
  cmd: string;
  what: string;
}

export interface Ctx {
  env: CanaryEnv;
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
}

export interface CommandSpec<T extends OptionTable = OptionTable> {
  name: string;
  summary: string;
  /** More text for `canary <cmd> --help`, after the options. */
  details?: string;
  args?: readonly ArgSpec[];
  options: T;
  examples: readonly Example[];
  /** Subcommands (e.g. `audit verify`); a command with them has no run of its own. */
  subcommands?: readonly CommandSpec<any>[];
  /** Returns the exit code (undefined: 0). */
  run?: (values: ValuesOf<T>, args: string[], ctx: Ctx) => Promise<number | void>;
}

/** A command with its values' type inferred from its option table. */
export function defineCommand<const T extends OptionTable>(spec: CommandSpec<T>): CommandSpec<T> {
  return spec;
}
