// A runbook command in one shape (./runbook.ts has the plan's zod shapes and checks): what the
// engine and the actuators read from a validated plan. A leaf without zod, so running a plan
// does not load the schema.
import { parseDuration } from './duration.js';

/** A command as a validated plan has it: a bare string is `{ run }`. */
export type CommandSpecText = string | { name?: string | undefined; run: string; sim?: string | undefined; timeout?: string | undefined };

export interface NormalCommand {
  name: string;
  run: string;
  sim?: string;
  timeoutMs: number;
}

/** A command step in one shape; `defaultMs` from runbook.timeout. */
export function normalCommand(c: CommandSpecText, defaultMs: number): NormalCommand {
  const o = typeof c === 'string' ? { run: c } : c;
  const timeoutMs = (o.timeout ? parseDuration(o.timeout) : undefined) ?? defaultMs;
  return { name: o.name ?? commandLabel(o.run), run: o.run, ...(o.sim ? { sim: o.sim } : {}), timeoutMs };
}

/** "helm upgrade --install maestro..." -> "helm upgrade"; "npm run test:smoke" -> "npm run test:smoke". */
export function commandLabel(run: string): string {
  const words = run.trim().split(/\s+/).filter((w) => !w.startsWith('-'));
  return words.slice(0, words[0] === 'npm' || words[0] === 'node' ? 3 : 2).join(' ');
}
