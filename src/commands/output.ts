// `-o json|yaml` for commands with machine output.
import type { StringOpt } from './options.js';

export const OUTPUT_OPTION = { type: 'string', short: 'o', arg: 'format', help: 'output format: text (default), json or yaml, for machines', choices: ['text', 'json', 'yaml'] } as const satisfies StringOpt;

export type OutputFormat = 'text' | 'json' | 'yaml';

/** A value as JSON (one object, 2-space indented) or YAML. */
export async function formatMachine(value: unknown, format: 'json' | 'yaml'): Promise<string> {
  if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
  const { stringify } = await import('yaml');
  return stringify(value);
}
