// The runbook parts of a plan: commands the console runs (deploy steps per phase, post-rollout
// validation, rollback verification, checklist checks, feature-flag hooks), checklists that block a
// gate, what a go/no-go does, and where pod logs come from. Shapes here, referenced by schema.ts;
// the cross-checks (unknown checklist references, commands that cannot run) are `runbookProblems`,
// and what is legal but probably not meant (a decision point that may never be asked) is
// `runbookWarnings`.
import { z } from 'zod';
import { parseDuration } from './duration.js';

/** A cross-field problem of a plan: where (a key path into the YAML) and what. Defined here (a leaf
 * below schema.ts, which imports this module's checks) and re-exported by schema.ts. */
export interface PlanProblem {
  path: (string | number)[];
  message: string;
}

const DurationText = z
  .string({ error: 'expected a duration such as "30s", "5m", "4h" or "7d"' })
  .refine((s) => parseDuration(s) !== undefined, { message: 'expected a duration: a number followed by ms, s, m, h, d or w (e.g. "30s", "10m")' });

const RunbookId = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected an id: lowercase letters, digits, "-" or "_"');

/** A command the console runs: `run` through /bin/sh with the plan's values as environment
 * variables (${WEIGHT}, ${RC_VERSION}...), never pasted into the text. `sim` runs instead on the
 * embedded simulated world (the real command is only shown there). A bare string is `{ run }`. */
export const CommandSpecObject = z.strictObject({
  /** A short label for panes and the journal (default: the command's first words). */
  name: z.string().min(1).optional(),
  run: z.string().min(1),
  /** The stand-in on the embedded world; without one the step is not run there (shown as skipped). */
  sim: z.string().min(1).optional(),
  /** Killed (with its whole process group) after this long. */
  timeout: DurationText.optional(),
});
export const CommandSpec = z.union([z.string().min(1), CommandSpecObject]);
export type CommandSpecInput = z.infer<typeof CommandSpec>;

/** A checklist item: text a person ticks, or with `check` a command (exit 0) or a PromQL query
 * (at least one series) that ticks it. */
export const ChecklistItem = z.union([
  z.string().min(1),
  z.strictObject({
    text: z.string().min(1),
    check: z
      .union([
        CommandSpecObject,
        z.strictObject({
          /** PromQL that must return at least one series (e.g. up{job="orchestrator"} == 1). */
          query: z.string().min(1),
          sim: z.string().min(1).optional(),
          timeout: DurationText.optional(),
        }),
      ])
      .optional(),
  }),
]);
export type ChecklistItemInput = z.infer<typeof ChecklistItem>;

/** What a no-go at a checkpoint does, and what happens to a decision point later than the
 * minimum bake when the gate could open before it comes due. */
export const CheckpointRunbook = {
  /** hold (default): the phase holds with the person's reason until a go; rollback: rolls back. */
  noGo: z.enum(['hold', 'rollback']).default('hold'),
  /** ask (default): asked before the gate opens even if the bake has not reached it; skip: skipped
   * when the phase moves on first (the plan says so; validate warns). */
  late: z.enum(['ask', 'skip']).default('ask'),
};

/** A feature flag enabled during a phase: an action with approvals, like a gate. */
export const FeatureFlag = z.strictObject({
  name: RunbookId,
  title: z.string().min(1).optional(),
  /** Roles that must approve enabling it (default: none beyond the person pressing y). */
  approvals: z.array(RunbookId).default([]),
  /** How it is enabled: a command hook (${FLAG} is its name), or a webhook POST (URL from env). */
  enable: CommandSpec.optional(),
  webhookEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the name of an environment variable').optional(),
});
export type FeatureFlag = z.infer<typeof FeatureFlag>;

/** Plan-wide runbook settings. */
export const Runbook = z.strictObject({
  /** The seed's "Deployment Commands": run per phase on confirmation, the phase's values filled in
   * (${WEIGHT}, ${PHASE}, ${NAMESPACE}, ${RC_VERSION}, ${PREVIOUS_STABLE_VERSION}, ${RELEASE}). */
  deploy: z.array(CommandSpec).default([]),
  /** Default timeout of every command (a command's own `timeout` wins). */
  timeout: DurationText.default('10m'),
  /** Environment variables whose values are secrets: passed to commands, scrubbed from output. */
  secretEnv: z.array(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the name of an environment variable')).default([]),
  /** `kubectl logs -f` of a selected pod: the container and how far back. */
  logs: z
    .strictObject({ container: z.string().min(1).optional(), since: DurationText.default('10m'), tail: z.number().int().positive().max(5000).default(200) })
    .default({ since: '10m', tail: 200 }),
});
export type Runbook = z.infer<typeof Runbook>;

export { commandLabel, normalCommand, type NormalCommand } from './runbook-commands.js';

/** Why a command cannot run as written, or null. Checks what /bin/sh would choke on or what would
 * silently do something else: unbalanced quotes, a line continuation left from a pasted script,
 * ${VAR} with a name that is not a variable name, a $(...) left open. */
export function commandProblem(cmd: string): string | null {
  let single = false;
  let double = false;
  for (let i = 0; i < cmd.length; i++) {
    const ch = cmd[i];
    if (ch === '\\' && !single) {
      i++;
      continue;
    }
    if (ch === "'" && !double) single = !single;
    else if (ch === '"' && !single) double = !double;
  }
  if (single) return 'an unclosed single quote (\')';
  if (double) return 'an unclosed double quote (")';
  if (/\\\s*$/.test(cmd)) return 'a trailing "\\" (a line continuation of a pasted script): join the lines';
  const bad = /\$\{([^}]*)\}/g;
  for (const m of cmd.matchAll(bad)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(m[1]!)) return `"\${${m[1]}}" is not a variable name`;
  if (/\$\{[^}]*$/.test(cmd)) return 'an unclosed "${"';
  let depth = 0;
  for (const m of cmd.matchAll(/\$\(|\)/g)) depth += m[0] === ')' ? (depth > 0 ? -1 : 0) : 1;
  if (depth > 0) return 'an unclosed "$("';
  return null;
}

interface PlanLike {
  runbook?: Runbook | undefined;
  rollback: { hook?: CommandSpecInput | undefined; validate?: CommandSpecInput | undefined };
  postRollout?: { validate: CommandSpecInput[] } | undefined;
  checklists?: { id?: string | undefined; name: string; items: ChecklistItemInput[] }[] | undefined;
  phases: { id: string; steps: { bake: { min: string; max?: string | undefined } }[]; checkpoints: { at: string; late: 'ask' | 'skip' }[]; checklists?: string[] | undefined; flags?: FeatureFlag[] | undefined; deploy?: CommandSpecInput[] | undefined; approvals: { role: string }[] }[];
  roster: { roles: { id: string }[] };
}

/** Unknown checklist references and commands that cannot run, each at its key. */
export function runbookProblems(plan: PlanLike): PlanProblem[] {
  const out: PlanProblem[] = [];
  const cmd = (c: CommandSpecInput | undefined, path: (string | number)[]) => {
    if (c === undefined) return;
    const o = typeof c === 'string' ? { run: c } : c;
    const at = typeof c === 'string' ? path : [...path, 'run'];
    const p = commandProblem(o.run);
    if (p) out.push({ path: at, message: `this command cannot run as written: ${p}` });
    if (typeof c !== 'string' && c.sim) {
      const q = commandProblem(c.sim);
      if (q) out.push({ path: [...path, 'sim'], message: `this command cannot run as written: ${q}` });
    }
  };
  plan.runbook?.deploy.forEach((c, i) => cmd(c, ['runbook', 'deploy', i]));
  cmd(plan.rollback.hook, ['rollback', 'hook']);
  cmd(plan.rollback.validate, ['rollback', 'validate']);
  plan.postRollout?.validate.forEach((c, i) => cmd(c, ['postRollout', 'validate', i]));
  const ids = new Map<string, number>();
  plan.checklists?.forEach((cl, i) => {
    if (cl.id !== undefined) {
      if (ids.has(cl.id)) out.push({ path: ['checklists', i, 'id'], message: `duplicate checklist id "${cl.id}"` });
      ids.set(cl.id, i);
    }
    cl.items.forEach((it, j) => {
      if (typeof it !== 'string' && it.check && 'run' in it.check) cmd(it.check, ['checklists', i, 'items', j, 'check']);
    });
  });
  const known = [...ids.keys()];
  const roles = new Set(plan.roster.roles.map((r) => r.id));
  plan.phases.forEach((ph, p) => {
    ph.checklists?.forEach((ref, k) => {
      if (!ids.has(ref))
        out.push({
          path: ['phases', p, 'checklists', k],
          message: known.length
            ? `unknown checklist "${ref}"; checklists with an id: ${known.join(', ')}`
            : `unknown checklist "${ref}": no checklist has an id (give one under checklists[].id)`,
        });
    });
    ph.deploy?.forEach((c, i) => cmd(c, ['phases', p, 'deploy', i]));
    const flagNames = new Set<string>();
    ph.flags?.forEach((f, i) => {
      if (flagNames.has(f.name)) out.push({ path: ['phases', p, 'flags', i, 'name'], message: `duplicate flag "${f.name}"` });
      flagNames.add(f.name);
      if (f.enable === undefined && f.webhookEnv === undefined) out.push({ path: ['phases', p, 'flags', i], message: `flag "${f.name}" needs enable (a command) or webhookEnv (the variable holding the flag service's URL)` });
      cmd(f.enable, ['phases', p, 'flags', i, 'enable']);
      f.approvals.forEach((r, j) => {
        if (!roles.has(r)) out.push({ path: ['phases', p, 'flags', i, 'approvals', j], message: `unknown role "${r}"; expected one of: ${[...roles].join(', ')}` });
      });
    });
  });
  return out;
}

/** Legal, but worth a look: a decision point that may never be asked. */
export function runbookWarnings(plan: PlanLike): PlanProblem[] {
  const out: PlanProblem[] = [];
  plan.phases.forEach((ph, p) => {
    const minSpan = ph.steps.reduce((a, s) => a + (parseDuration(s.bake.min) ?? 0), 0);
    ph.checkpoints.forEach((c, i) => {
      const at = parseDuration(c.at) ?? 0;
      if (at <= minSpan) return;
      if (c.late === 'skip')
        out.push({ path: ['phases', p, 'checkpoints', i, 'at'], message: `decision point at ${c.at} may never be reached: the phase may move on after its minimum bake (${fmtMs(minSpan)}), and late: skip skips it then` });
      else if (p === plan.phases.length - 1)
        out.push({ path: ['phases', p, 'checkpoints', i, 'at'], message: `decision point at ${c.at} is after the last phase's minimum bake (${fmtMs(minSpan)}): it is asked before the rollout completes` });
    });
  });
  return out;
}

function fmtMs(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 24 && h % 24 === 0 ? `${h / 24}d` : `${+h.toFixed(2)}h`;
}
