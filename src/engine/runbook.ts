// The runbook in the engine: checklists that block a gate, the deploy steps of a phase, a no-go
// that holds (or rolls back), decision points asked before a gate opens, post-rollout validation
// gating completion, rollback verification, feature flags, and the pod being looked at. Pure like
// the rest of the engine: commands become `run-command` effects, their output and exit come back
// as events, and every decision is made here from plan + state.
import type { Plan } from '../plan/schema.js';
import { formatDuration, parseDuration } from '../plan/duration.js';
import { normalCommand, type NormalCommand } from '../plan/runbook-commands.js';
import type { CompiledPlan } from './compiled.js';
import { actorName, type Actor, type EffectInput, type HistoryEntry, type PodInfo, type RolloutState } from './types.js';
import { EMPTY_RUNBOOK, RUN_LINES, RUNS_KEPT, type CommandRun, type RunbookCommand, type RunbookEvent, type RunbookState, type RunPurpose } from './runbook-types.js';

export { EMPTY_RUNBOOK };

export interface RunbookTx {
  s: RolloutState;
  readonly cp: CompiledPlan;
  effect(e: EffectInput): { id: number };
  log(kind: HistoryEntry['kind'], text: string): void;
}

export interface ChecklistItemView {
  key: string;
  checklist: string;
  text: string;
  check?: NormalCommand & { query?: string };
}

export interface RunbookPlan {
  /** Every checklist item, in plan order. */
  items: ChecklistItemView[];
  /** Checklist ids/names by phase id: the gate into the phase waits for them. */
  gateChecklists: Record<string, { id: string; name: string; items: ChecklistItemView[] }[]>;
  deploy: Record<string, NormalCommand[]>;
  validate: NormalCommand[];
  verify: NormalCommand | null;
  flags: Record<string, { phase: string; name: string; title: string; approvals: string[]; enable: NormalCommand | null; webhookEnv?: string }>;
  logs: { container?: string; sinceMs: number; tail: number };
}

const cache = new WeakMap<Plan, RunbookPlan>();

export function runbookPlan(plan: Plan): RunbookPlan {
  const hit = cache.get(plan);
  if (hit) return hit;
  const dflt = parseDuration(plan.runbook.timeout) ?? 600_000;
  const items: ChecklistItemView[] = [];
  const byId = new Map<string, { id: string; name: string; items: ChecklistItemView[] }>();
  for (const cl of plan.checklists ?? []) {
    const base = cl.id ?? cl.name;
    const mine: ChecklistItemView[] = cl.items.map((it, j) => {
      const key = `${base}#${j + 1}`;
      if (typeof it === 'string') return { key, checklist: cl.name, text: it };
      const c = it.check;
      let check: ChecklistItemView['check'];
      if (c && 'query' in c) check = { name: `query: ${it.text.length > 40 ? `${it.text.slice(0, 39)}…` : it.text}`, run: c.query, query: c.query, ...(c.sim ? { sim: c.sim } : {}), timeoutMs: (c.timeout ? parseDuration(c.timeout) : undefined) ?? 30_000 };
      else if (c) check = normalCommand(c, dflt);
      return { key, checklist: cl.name, text: it.text, ...(check ? { check } : {}) };
    });
    items.push(...mine);
    if (cl.id) byId.set(cl.id, { id: cl.id, name: cl.name, items: mine });
  }
  const gateChecklists: RunbookPlan['gateChecklists'] = {};
  const deploy: RunbookPlan['deploy'] = {};
  const flags: RunbookPlan['flags'] = {};
  for (const ph of plan.phases) {
    gateChecklists[ph.id] = (ph.checklists ?? []).map((id) => byId.get(id)).filter((x): x is NonNullable<typeof x> => x !== undefined);
    deploy[ph.id] = (ph.deploy ?? plan.runbook.deploy).map((c) => normalCommand(c, dflt));
    for (const f of ph.flags ?? [])
      flags[f.name] = { phase: ph.id, name: f.name, title: f.title ?? f.name, approvals: f.approvals, enable: f.enable ? normalCommand(f.enable, dflt) : null, ...(f.webhookEnv ? { webhookEnv: f.webhookEnv } : {}) };
  }
  const rp: RunbookPlan = {
    items,
    gateChecklists,
    deploy,
    validate: (plan.postRollout?.validate ?? []).map((c) => normalCommand(c, dflt)),
    verify: plan.rollback.validate ? normalCommand(plan.rollback.validate, dflt) : null,
    flags,
    logs: { ...(plan.runbook.logs.container ? { container: plan.runbook.logs.container } : {}), sinceMs: parseDuration(plan.runbook.logs.since) ?? 600_000, tail: plan.runbook.logs.tail },
  };
  cache.set(plan, rp);
  return rp;
}

/** The values commands get as environment variables (and the display fills in). */
export function commandValues(plan: Plan, phaseId: string | null, extra: Record<string, string> = {}): Record<string, string> {
  const ph = phaseId ? plan.phases.find((p) => p.id === phaseId) : undefined;
  return {
    PLAN: plan.metadata.name,
    SERVICE: plan.metadata.service,
    RELEASE: plan.metadata.release,
    RC_VERSION: plan.metadata.version,
    PREVIOUS_STABLE_VERSION: plan.metadata.previousVersion,
    NAMESPACE: plan.target.namespace,
    DEPLOYMENT: plan.target.deployment,
    ...(ph
      ? {
          PHASE: ph.id,
          PHASE_TITLE: ph.title,
          WEIGHT: String(ph.steps[0]!.weight),
          REGIONS: (ph.regions === 'all' ? plan.target.regions : ph.regions).join(','),
        }
      : {}),
    ...extra,
  };
}

/** The command with the plan's values filled in; anything else (secrets) stays ${NAME}. */
export function fillIn(cmd: string, values: Record<string, string>): string {
  return cmd.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, a: string | undefined, b: string | undefined) => values[(a ?? b)!] ?? m);
}

const who = (a: Actor) => actorName(a);

function rb(tx: RunbookTx): RunbookState {
  return tx.s.runbook;
}
function set(tx: RunbookTx, patch: Partial<RunbookState>): void {
  tx.s.runbook = { ...tx.s.runbook, ...patch };
}

/** The newest run with this key. */
export function lastRun(state: Pick<RolloutState, 'runbook'>, key: string): CommandRun | undefined {
  const runs = state.runbook.runs;
  for (let i = runs.length - 1; i >= 0; i--) if (runs[i]!.key === key) return runs[i];
  return undefined;
}

export function runningRuns(state: Pick<RolloutState, 'runbook'>): CommandRun[] {
  return state.runbook.runs.filter((r) => r.status === 'running');
}

function startRun(tx: RunbookTx, by: string, purpose: RunPurpose, key: string, cmd: NormalCommand & { query?: string; webhookEnv?: string }, values: Record<string, string>): number {
  const e = tx.effect({
    type: 'run-command',
    purpose,
    key,
    name: cmd.name,
    run: cmd.run,
    ...(cmd.sim ? { sim: cmd.sim } : {}),
    ...(cmd.query ? { query: cmd.query } : {}),
    ...(cmd.webhookEnv ? { webhookEnv: cmd.webhookEnv } : {}),
    env: values,
    timeoutMs: cmd.timeoutMs,
  });
  const run: CommandRun = {
    id: e.id,
    purpose,
    key,
    name: cmd.name,
    command: fillIn(cmd.run, values),
    ...(cmd.sim ? { sim: fillIn(cmd.sim, values) } : {}),
    by,
    startedAt: tx.s.now,
    status: 'running',
    exitCode: null,
    detail: 'running',
    lines: [],
  };
  const runs = [...rb(tx).runs, run];
  // Keep the newest; never drop one still running.
  while (runs.length > RUNS_KEPT) {
    const i = runs.findIndex((r) => r.status !== 'running');
    if (i < 0) break;
    runs.splice(i, 1);
  }
  set(tx, { runs });
  tx.log('command', `${by} ran ${purpose} "${cmd.name}": ${run.command}`);
  return e.id;
}

function updateRun(tx: RunbookTx, id: number, f: (r: CommandRun) => CommandRun): CommandRun | undefined {
  const runs = rb(tx).runs;
  const i = runs.findIndex((r) => r.id === id);
  if (i < 0) return undefined;
  const next = runs.slice();
  next[i] = f(runs[i]!);
  set(tx, { runs: next });
  return next[i];
}

// ---------------------------------------------------------------------------------------------
// commands

export interface RunbookHooks {
  rollback(actor: Actor, reason: string): void;
  trafficOn(): boolean;
  /** The phase of the next gate (entering it), else the current phase. */
  deployPhase(): string | null;
}

export function onRunbookCommand(tx: RunbookTx, actor: Actor, c: RunbookCommand, hooks: RunbookHooks): void {
  const rp = runbookPlan(tx.cp.plan);
  const s = tx.s;
  const by = who(actor);
  switch (c.kind) {
    case 'tick-item': {
      const item = rp.items.find((i) => i.key === c.item);
      if (!item) return tx.log('refused', `${by} ticked "${c.item}": no such checklist item`);
      if (rb(tx).ticks[item.key]) return tx.log('refused', `${by} ticked "${item.text}": already ticked by ${rb(tx).ticks[item.key]!.by}`);
      set(tx, { ticks: { ...rb(tx).ticks, [item.key]: { by, at: s.now, how: 'person', ...(c.note ? { detail: c.note } : {}) } } });
      // Ticked by hand over its automated check (which failed, or could not run here): said so.
      const check = item.check ? lastRun(s, `check:${item.key}`) : undefined;
      const over = check && check.status !== 'passed' && check.status !== 'running' ? ` by hand, OVERRIDING its check (${check.status === 'skipped' ? 'not run' : 'failed'}: ${check.detail})` : '';
      tx.log('approval', `${by} ticked ${item.checklist}: ${item.text}${over}${c.note ? ` (${c.note})` : ''}`);
      return;
    }
    case 'run-check': {
      const item = rp.items.find((i) => i.key === c.item);
      if (!item?.check) return tx.log('refused', `${by} asked to check "${c.item}": it has no check; tick it by hand`);
      if (lastRun(s, `check:${item.key}`)?.status === 'running') return tx.log('refused', `${by} asked to check "${item.text}": already running`);
      startRun(tx, by, 'check', `check:${item.key}`, item.check, commandValues(tx.cp.plan, null));
      return;
    }
    case 'run-deploy': {
      const phase = c.phase ?? hooks.deployPhase();
      const steps = phase ? rp.deploy[phase] : undefined;
      if (!phase || !steps) return tx.log('refused', `${by} asked to deploy: no phase to deploy`);
      if (steps.length === 0) return tx.log('refused', `${by} asked to deploy ${phase}: the plan has no deploy steps (runbook.deploy)`);
      if (steps.some((_, i) => lastRun(s, `deploy:${phase}:${i}`)?.status === 'running')) return tx.log('refused', `${by} asked to deploy ${phase}: its deploy steps are running`);
      startRun(tx, by, 'deploy', `deploy:${phase}:0`, steps[0]!, commandValues(tx.cp.plan, phase));
      return;
    }
    case 'no-go': {
      const phase = tx.cp.phases[s.phaseIndex];
      const cps = phase ? s.checkpoints[phase.id] : undefined;
      const due = cps?.find((x) => x.dueAt !== undefined && x.ackedAt === undefined);
      if (!hooks.trafficOn() || !phase || !due) return tx.log('refused', `${by} gave a no-go: no checkpoint is waiting`);
      const reason = c.reason.trim() || 'no reason given';
      const def = tx.cp.plan.phases[phase.index]!.checkpoints.find((x) => (parseDuration(x.at) ?? -1) === due.at && x.title === due.title);
      const hour = due.at / 3_600_000;
      tx.log('checkpoint', `${by} gave NO-GO at ${phase.title} checkpoint hour ${hour} "${due.title}": ${reason}`);
      tx.effect({ type: 'notify', kind: 'checkpoint', severity: 'warning', message: `${tx.cp.plan.metadata.service}: NO-GO at ${phase.title} hour ${hour} "${due.title}" by ${by}: ${reason}` });
      if (def?.noGo === 'rollback') {
        set(tx, { noGo: null });
        hooks.rollback(actor, `no-go at ${phase.title} hour ${hour} "${due.title}" by ${by}: ${reason}`);
        return;
      }
      set(tx, { noGo: { phase: phase.id, index: due.index, hour, title: due.title, by, reason, at: s.now } });
      return;
    }
    case 'run-validation': {
      if (rp.validate.length === 0) return tx.log('refused', `${by} asked to validate: the plan has no postRollout.validate`);
      if (rp.validate.some((_, i) => lastRun(s, `validate:${i}`)?.status === 'running')) return tx.log('refused', `${by} asked to validate: validation is running`);
      if (!atFull(tx)) return tx.log('refused', `${by} asked to validate: post-rollout validation runs once traffic is at 100%`);
      set(tx, { validationAt: s.now });
      startRun(tx, by, 'validate', 'validate:0', rp.validate[0]!, commandValues(tx.cp.plan, tx.cp.phases[s.phaseIndex]!.id));
      return;
    }
    case 'verify-rollback': {
      if (s.status !== 'rolled-back' || !s.rollback) return tx.log('refused', `${by} asked to verify the rollback: the rollout is ${s.status}`);
      startVerification(tx, by);
      return;
    }
    case 'approve-flag': {
      const f = rp.flags[c.flag];
      if (!f) return tx.log('refused', `${by} asked to approve flag "${c.flag}": refused - no such flag (flags: ${Object.keys(rp.flags).join(', ') || 'none'})`);
      const cur = rb(tx).flags[f.name] ?? { approvals: [] };
      const titles = (roles: readonly string[]) => roles.map((r) => tx.cp.roleTitles[r] ?? r).join(', ');
      const missing = f.approvals.filter((r) => !cur.approvals.some((a) => a.role === r));
      if (cur.enabledAt !== undefined) return tx.log('refused', `${by} asked to approve flag ${f.name}: refused - already enabled by ${cur.enabledBy}`);
      if (!missing.length) return tx.log('refused', `${by} asked to approve flag ${f.name}: refused - every approval it needs is in${f.approvals.length ? '' : ' (it needs none)'}`);
      if (cur.approvals.some((a) => a.by === by)) return tx.log('refused', `${by} asked to approve flag ${f.name}: refused - already approved it (one person fills one role)`);
      // No role named (a key press): the first role the flag still needs that this person holds.
      const role = c.role ?? missing.find((r) => actor.roles?.includes(r));
      if (!role) return tx.log('refused', `${by} asked to approve flag ${f.name}: refused - holds none of the roles it still needs: ${titles(missing)}`);
      if (!f.approvals.includes(role)) return tx.log('refused', `${by} asked to approve flag ${f.name} as ${role}: refused - that role is not asked for (${titles(f.approvals) || 'none'})`);
      if (!missing.includes(role)) return tx.log('refused', `${by} asked to approve flag ${f.name} as ${role}: refused - that approval is already in`);
      if (actor.roles && !actor.roles.includes(role)) return tx.log('refused', `${by} asked to approve flag ${f.name} as ${role}: refused - not one of their roles`);
      set(tx, { flags: { ...rb(tx).flags, [f.name]: { ...cur, approvals: [...cur.approvals, { role, by, at: s.now }] } } });
      tx.log('approval', `${by} approved enabling flag ${f.name} as ${tx.cp.roleTitles[role] ?? role}`);
      return;
    }
    case 'enable-flag': {
      const f = rp.flags[c.flag];
      if (!f) return tx.log('refused', `${by} asked to enable flag "${c.flag}": no such flag`);
      const phase = tx.cp.phases[s.phaseIndex];
      if (!hooks.trafficOn() || phase?.id !== f.phase) return tx.log('refused', `${by} asked to enable flag ${f.name}: it belongs to phase ${f.phase}, and the rollout is not in it`);
      const blockers = flagBlockers(tx.cp, s, f.name);
      if (blockers.length) return tx.log('refused', `${by} asked to enable flag ${f.name}: refused - ${blockers.join('; ')}`);
      // A command hook, or a POST to the flag service (its URL in the variable the plan names).
      const cmd: NormalCommand & { webhookEnv?: string } = f.enable ? { ...f.enable, name: `enable ${f.name}` } : { name: `enable ${f.name}`, run: `POST $${f.webhookEnv} {"flag":"${f.name}","phase":"${f.phase}"}`, timeoutMs: 30_000, webhookEnv: f.webhookEnv! };
      const id = startRun(tx, by, 'flag', `flag:${f.name}`, cmd, commandValues(tx.cp.plan, f.phase, { FLAG: f.name, ENABLED_BY: by }));
      const cur = rb(tx).flags[f.name] ?? { approvals: [] };
      set(tx, { flags: { ...rb(tx).flags, [f.name]: { ...cur, runId: id } } });
      return;
    }
    case 'stop-command': {
      const run = rb(tx).runs.find((r) => r.id === c.runId && r.status === 'running');
      if (!run) return tx.log('refused', `${by} asked to stop command #${c.runId}: it is not running`);
      tx.effect({ type: 'stop-command', runId: run.id });
      tx.log('command', `${by} stopped "${run.name}"`);
      return;
    }
  }
}

/** What keeps a flag from being enabled now. */
export function flagBlockers(cp: CompiledPlan, s: RolloutState, name: string): string[] {
  const f = runbookPlan(cp.plan).flags[name];
  if (!f) return [`no flag ${name}`];
  const cur = s.runbook.flags[name];
  const out: string[] = [];
  if (cur?.enabledAt !== undefined) out.push(`already enabled by ${cur.enabledBy}`);
  if (cur?.runId !== undefined && lastRun(s, `flag:${name}`)?.status === 'running') out.push('being enabled');
  for (const r of f.approvals) if (!cur?.approvals.some((a) => a.role === r)) out.push(`approval from ${cp.roleTitles[r] ?? r} missing`);
  return out;
}

function atFull(tx: RunbookTx): boolean {
  const s = tx.s;
  const last = tx.cp.phases.length - 1;
  const phase = tx.cp.phases[s.phaseIndex];
  return (
    (s.status === 'running' || s.status === 'paused') &&
    s.phaseIndex === last &&
    phase !== undefined &&
    s.stepIndex === phase.steps.length - 1 &&
    s.appliedWeight === s.desiredWeight &&
    Object.keys(s.pending).length === 0
  );
}

function startVerification(tx: RunbookTx, by: string): void {
  const rp = runbookPlan(tx.cp.plan);
  const s = tx.s;
  if (!s.rollback) return;
  if (!rp.verify) {
    set(tx, { verification: { rollbackAt: s.rollback.at, runId: null, status: 'skipped', detail: 'the plan has no rollback.validate step' } });
    return;
  }
  const id = startRun(tx, by, 'verify-rollback', 'verify-rollback', rp.verify, commandValues(tx.cp.plan, null, { ROLLBACK_REASON: s.rollback.reason }));
  set(tx, { verification: { rollbackAt: s.rollback.at, runId: id, status: 'running', detail: 'running' } });
}

/** A rollback was confirmed in every cluster: verify it (the plan's validate-rollback step). */
export function onRollbackConfirmed(tx: RunbookTx): void {
  startVerification(tx, 'canary (rollback confirmed)');
}

// ---------------------------------------------------------------------------------------------
// events

export function onRunbookEvent(tx: RunbookTx, e: RunbookEvent): void {
  const s = tx.s;
  switch (e.type) {
    case 'command.output': {
      updateRun(tx, e.runId, (r) => {
        const lines = r.lines.concat(e.lines);
        return { ...r, lines: lines.length > RUN_LINES ? lines.slice(-RUN_LINES) : lines };
      });
      return;
    }
    case 'command.result': {
      const run = rb(tx).runs.find((r) => r.id === e.runId);
      if (!run || run.status !== 'running') return;
      const status: CommandRun['status'] = e.skipped ? 'skipped' : e.ok ? 'passed' : 'failed';
      const done = updateRun(tx, e.runId, (r) => ({ ...r, status, exitCode: e.exitCode, detail: e.detail, endedAt: s.now }))!;
      const tail = done.lines.filter((l) => l.trim()).slice(-1)[0];
      tx.log(status === 'failed' ? 'hold' : 'effect', `${done.purpose} "${done.name}" ${status === 'passed' ? 'passed' : status === 'skipped' ? 'skipped' : 'FAILED'}: ${e.detail}${status === 'failed' && tail ? ` - ${tail}` : ''}`);
      afterRun(tx, done);
      return;
    }
  }
}

function afterRun(tx: RunbookTx, run: CommandRun): void {
  const rp = runbookPlan(tx.cp.plan);
  const s = tx.s;
  const parts = run.key.split(':');
  switch (run.purpose) {
    case 'check': {
      const key = run.key.slice('check:'.length);
      const item = rp.items.find((i) => i.key === key);
      if (run.status === 'passed' && item && !rb(tx).ticks[key])
        set(tx, { ticks: { ...rb(tx).ticks, [key]: { by: `check (${run.name})`, at: s.now, how: 'check', detail: run.detail } } });
      return;
    }
    case 'deploy': {
      const phase = parts[1]!;
      const i = Number(parts[2]);
      const steps = rp.deploy[phase] ?? [];
      if (run.status !== 'failed' && i + 1 < steps.length) startRun(tx, run.by, 'deploy', `deploy:${phase}:${i + 1}`, steps[i + 1]!, commandValues(tx.cp.plan, phase));
      if (run.status === 'failed') tx.effect({ type: 'notify', kind: 'gate', severity: 'warning', message: `${tx.cp.plan.metadata.service}: deploy step "${run.name}" for ${phase} failed (${run.detail})` });
      return;
    }
    case 'validate': {
      const i = Number(parts[1]);
      if (i + 1 < rp.validate.length && atFull(tx)) startRun(tx, run.by, 'validate', `validate:${i + 1}`, rp.validate[i + 1]!, commandValues(tx.cp.plan, tx.cp.phases[s.phaseIndex]!.id));
      return;
    }
    case 'verify-rollback': {
      const v = rb(tx).verification;
      if (!v || v.runId !== run.id) return;
      const status = run.status === 'running' ? 'running' : run.status;
      set(tx, { verification: { ...v, status, detail: run.detail } });
      tx.log('rollback', `rolled back, confirmed: traffic 0% everywhere; verification ${status === 'passed' ? 'passed' : status === 'skipped' ? 'skipped on the simulated world' : 'FAILED'} (${run.name}: ${run.detail})`);
      if (status === 'failed')
        tx.effect({ type: 'notify', kind: 'rollback', severity: 'critical', message: `${tx.cp.plan.metadata.service}: rollback verification FAILED (${run.name}: ${run.detail})` });
      return;
    }
    case 'flag': {
      const name = parts[1]!;
      const cur = rb(tx).flags[name];
      if (cur && run.status === 'passed') set(tx, { flags: { ...rb(tx).flags, [name]: { ...cur, enabledAt: s.now, enabledBy: run.by } } });
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// progress and gates

/** Per tick: a decision point later than the minimum bake is asked before the gate opens (unless
 * the plan says `late: skip`); post-rollout validation starts once traffic is at 100%. */
export function runbookProgress(tx: RunbookTx, trafficOn: boolean): void {
  const s = tx.s;
  if (!trafficOn) return;
  const phase = tx.cp.phases[s.phaseIndex];
  if (!phase) return;
  const lastStep = s.stepIndex === phase.steps.length - 1;
  const step = phase.steps[s.stepIndex]!;
  if (lastStep && s.stepBakeMs >= step.minMs) {
    const defs = tx.cp.plan.phases[phase.index]!.checkpoints;
    const cps = s.checkpoints[phase.id];
    if (cps?.some((c) => c.dueAt === undefined && lateOf(defs, c) === 'ask')) {
      s.checkpoints = {
        ...s.checkpoints,
        [phase.id]: cps.map((c) => {
          if (c.dueAt !== undefined || lateOf(defs, c) !== 'ask') return c;
          tx.log('checkpoint', `checkpoint asked before the gate opens: ${phase.title} hour ${c.at / 3_600_000}: ${c.title} - the minimum bake is done, the decision point is later (${formatDuration(c.at)}); waiting for a go (g) or no-go (n)`);
          tx.effect({ type: 'notify', kind: 'checkpoint', severity: 'warning', message: `${phase.title}: go/no-go "${c.title}" (hour ${c.at / 3_600_000}) is asked now, before the gate opens` });
          return { ...c, dueAt: s.now };
        }),
      };
    }
  }
  const rp = runbookPlan(tx.cp.plan);
  if (rp.validate.length && s.runbook.validationAt === null && atFull(tx)) {
    set(tx, { validationAt: s.now });
    tx.log('phase', `traffic at ${s.desiredWeight}%: post-rollout validation starts (${rp.validate.length} commands); completion waits for them`);
    startRun(tx, 'canary (post-rollout validation)', 'validate', 'validate:0', rp.validate[0]!, commandValues(tx.cp.plan, phase.id));
  }
}

function lateOf(defs: { at: string; title: string; late: 'ask' | 'skip' }[], c: { at: number; title: string }): 'ask' | 'skip' {
  return defs.find((d) => d.title === c.title && parseDuration(d.at) === c.at)?.late ?? 'ask';
}

/** Decision points skipped because the phase moved on before them (`late: skip`): said, once. */
export function skippedCheckpoints(tx: RunbookTx, phaseId: string): void {
  const cps = tx.s.checkpoints[phaseId] ?? [];
  for (const c of cps) if (c.dueAt === undefined) tx.log('checkpoint', `checkpoint hour ${c.at / 3_600_000} "${c.title}" skipped: the phase moved on before it (late: skip)`);
}

/** Checklist items of the gate into `phaseId` not yet ticked, one blocker per checklist. */
export function checklistBlockers(plan: Plan, s: RolloutState, phaseId: string): string[] {
  const out: string[] = [];
  for (const cl of runbookPlan(plan).gateChecklists[phaseId] ?? []) {
    const missing = cl.items.filter((i) => !s.runbook.ticks[i.key]);
    if (missing.length) out.push(`checklist "${cl.name}": ${missing.length} of ${cl.items.length} not ticked: ${missing.map((i) => i.text).join('; ')}`);
  }
  return out;
}

/** A failed deploy step of `phaseId` (its latest run), with exit code and last line. */
export function deployBlockers(plan: Plan, s: RolloutState, phaseId: string): string[] {
  const steps = runbookPlan(plan).deploy[phaseId] ?? [];
  const out: string[] = [];
  steps.forEach((st, i) => {
    const r = lastRun(s, `deploy:${phaseId}:${i}`);
    if (r?.status === 'failed') out.push(`deploy step "${st.name}" failed (${r.detail})${lastLines(r, 2)}`);
    else if (r?.status === 'running') out.push(`deploy step "${st.name}" is running`);
  });
  return out;
}

/** A no-go holding the phase, in words. */
export function noGoBlocker(s: RolloutState): string[] {
  const n = s.runbook.noGo;
  if (!n) return [];
  return [`no-go at hour ${n.hour} "${n.title}" by ${n.by}: ${n.reason} - give a go (g) once resolved, or roll back`];
}

/** Before "complete": every post-rollout validation command passed. */
export function validationBlockers(plan: Plan, s: RolloutState): string[] {
  const rp = runbookPlan(plan);
  if (rp.validate.length === 0) return [];
  const out: string[] = [];
  rp.validate.forEach((v, i) => {
    const r = s.runbook.validationAt === null ? undefined : lastRun(s, `validate:${i}`);
    const fresh = r && r.startedAt >= s.runbook.validationAt!;
    if (!fresh) out.push(`post-rollout validation "${v.name}" has not run`);
    else if (r.status === 'running') out.push(`post-rollout validation "${v.name}" is running`);
    else if (r.status === 'failed') out.push(`post-rollout validation "${v.name}" failed (${r.detail})${lastLines(r, 1)} - fix, then run it again (V)`);
  });
  return out;
}

function lastLines(r: CommandRun, n: number): string {
  const tail = r.lines.filter((l) => l.trim()).slice(-n);
  return tail.length ? `: ${tail.join(' | ')}` : '';
}

/** The runbook's holds (shown with the engine's other holds). */
export function runbookHolds(plan: Plan, s: RolloutState, phaseId: string | null): string[] {
  const out: string[] = [...noGoBlocker(s)];
  if (phaseId) for (const d of deployBlockers(plan, s, phaseId)) if (d.includes('failed')) out.push(d);
  return out;
}

/** A go at a checkpoint clears a no-go on it. */
export function onGo(tx: RunbookTx, phaseId: string, index: number): void {
  const n = rb(tx).noGo;
  if (n && n.phase === phaseId && n.index === index) set(tx, { noGo: null });
}

/** A new rollout (the first gate again): what the last one ran no longer counts. */
export function onRolloutStart(tx: RunbookTx): void {
  set(tx, { validationAt: null, noGo: null, verification: null });
}

export function isRunbookCommand(c: { kind: string }): c is RunbookCommand {
  return RUNBOOK_KINDS.has(c.kind);
}
const RUNBOOK_KINDS = new Set(['tick-item', 'run-check', 'run-deploy', 'no-go', 'run-validation', 'verify-rollback', 'enable-flag', 'approve-flag', 'stop-command']);

export function isRunbookEvent(e: { type: string }): e is RunbookEvent {
  return e.type === 'command.output' || e.type === 'command.result';
}

/** Checklist progress for panes: ticked / total for the gate into `phaseId`. */
export function checklistProgress(plan: Plan, s: RolloutState, phaseId: string): { ticked: number; total: number } {
  let ticked = 0;
  let total = 0;
  for (const cl of runbookPlan(plan).gateChecklists[phaseId] ?? [])
    for (const i of cl.items) {
      total++;
      if (s.runbook.ticks[i.key]) ticked++;
    }
  return { ticked, total };
}
