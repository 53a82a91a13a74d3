// The option table of a command, written once: commander's flags, the help text (with each
// numeric option's range), the shell completion and the TypeScript type of the parsed values are
// all derived from it.
import { InvalidArgumentError } from 'commander';

interface Base {
  /** One line for help; a numeric option's range and a choice's values are appended to it. */
  help: string;
  /** A one-letter alias, e.g. 'o' for -o. */
  short?: string;
}
export interface StringOpt extends Base {
  type: 'string';
  /** The argument's name in help, e.g. 'file'. */
  arg: string;
  /** The only values accepted (checked at parse time; offered by completion). */
  choices?: readonly string[];
  /** A check at parse time: returns the problem, or null when the value is good. */
  check?: (value: string) => string | null;
  /** Completion offers files for it. */
  file?: boolean;
}
export interface ListOpt extends Base {
  type: 'list';
  arg: string;
  file?: boolean;
}
export interface NumberOpt extends Base {
  type: 'number';
  arg: string;
  /** The accepted range, inclusive; stated in help and checked at parse time. */
  min: number;
  max: number;
  integer?: boolean;
}
export interface BoolOpt extends Base {
  type: 'boolean';
}
export type OptSpec = StringOpt | ListOpt | NumberOpt | BoolOpt;
export type OptionTable = Readonly<Record<string, OptSpec>>;

type ValueOf<O extends OptSpec> = O extends BoolOpt
  ? boolean
  : O extends NumberOpt
    ? number
    : O extends ListOpt
      ? string[]
      : O extends { choices: readonly (infer C extends string)[] }
        ? C
        : string;

/** The parsed values of a table: every option may be absent. */
export type ValuesOf<T extends OptionTable> = { -readonly [K in keyof T]?: ValueOf<T[K]> | undefined };

/** `1..100000`, `0.001..100000`: a range as help and errors show it. */
export function rangeText(o: NumberOpt): string {
  return `${o.min}..${o.max}${o.integer ? ', a whole number' : ''}`;
}

/** The parse-time check of a numeric option: a finite number in its range. */
export function parseNumber(o: NumberOpt, text: string): number {
  const n = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(n) || n < o.min || n > o.max || (o.integer && !Number.isInteger(n))) throw new InvalidArgumentError(`expected a number in ${rangeText(o)}`);
  return n;
}

/** host:port with a port in 0..65535 (0: any free port). */
export function checkHostPort(text: string): string | null {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) return 'expected host:port with a port in 0..65535, e.g. 127.0.0.1:9464';
  return null;
}

/** Help text of one option, with its range (commander adds a choice's values itself). */
export function optionHelp(o: OptSpec): string {
  if (o.type === 'number') return `${o.help} (${rangeText(o)})`;
  return o.help;
}
