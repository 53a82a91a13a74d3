// A one-screen human summary of a valid plan, printed by `canary validate` so the author can see at
// a glance that canary understood the plan the way they meant it.
import { formatDuration, parseDuration } from './duration.js';
import type { Plan } from './schema.js';

/** At most this many lines, each at most this many columns. */
export const SUMMARY_MAX_LINES = 40;
export const SUMMARY_MAX_COLS = 100;

/** A summary of the plan in at most 40 lines of at most 100 columns. */
export function planSummary(plan: Plan): string {
  const lines: string[] = [];
  const roleTitle = new Map(plan.roster.roles.map((r) => [r.id, r.title]));
  const title = (role: string) => roleTitle.get(role) ?? role;
  const m = plan.metadata;

  lines.push(`${m.service} ${m.version} (replaces ${m.previousVersion}) · plan ${m.name} · owner ${m.owner}`);
  const regions = plan.target.regions.map((r) => (r === plan.target.primaryRegion ? `${r} (primary)` : r));
  lines.push(`target    ${plan.target.namespace}/${plan.target.deployment} in ${regions.join(', ')}`);
  const a = plan.analysis;
  lines.push(
    `traffic   ${plan.traffic.provider} · judged every ${a.interval} over ${a.window} · holds after ${a.noDataAfter} without data`,
  );

  lines.push(`phases    ${plan.phases.length}`);
  const idWidth = Math.min(14, Math.max(...plan.phases.map((p) => p.id.length)));
  plan.phases.forEach((phase, i) => {
    const weights = phase.steps.map((s) => `${s.weight}%`).join(' → ');
    const bakes = phase.steps.map((s) => bakeText(s.bake.min, s.bake.max));
    const bake = bakes.every((b) => b === bakes[0]) && bakes.length > 1 ? `${bakes[0]} each` : bakes.join(', ');
    const where = phase.regions === 'all' ? 'all regions' : phase.regions.join(', ');
    let head = `  ${i + 1}. ${phase.id.padEnd(idWidth)}  ${weights}  bake ${bake}`;
    if (phase.monitor) head += ` + monitor ${phase.monitor}`;
    head += ` · ${where}`;
    if (phase.maxUsers !== undefined) head += ` · max ${phase.maxUsers} users`;
    lines.push(head);
    const indent = ' '.repeat(6);
    if (phase.checkpoints.length > 0) lines.push(`${indent}go/no-go at ${phase.checkpoints.map((c) => c.at).join(' ')}`);
    const approvals = phase.approvals.map((r) => (r.when === 'weekend-or-holiday' ? `${title(r.role)} (weekend/holiday)` : title(r.role)));
    lines.push(`${indent}approvals: ${approvals.length > 0 ? approvals.join(', ') : 'none'}`);
    if (phase.successCriteria) lines.push(`${indent}own success criteria: ${phase.successCriteria.length}`);
    if (phase.selection?.length) lines.push(`${indent}selection: ${phase.selection.length} criteria`);
    if (phase.benchmarks?.length) {
      const targets = phase.benchmarks.map((b) => `${b.op} ${b.value}${b.unit ? ` ${b.unit}` : ''}`);
      lines.push(oneLine(`${indent}benchmarks: `, targets));
    }
  });

  lines.push(
    `SLIs      ${plan.slis.length} · success criteria ${plan.successCriteria.length}` +
      ` · safety thresholds ${plan.safetyThresholds.length}`,
  );
  const crit = plan.successCriteria.map((c) => `${c.sli} ${c.op} ${c.value}`);
  lines.push(...wrapList('  pass    ', crit));
  const r = plan.rollback;
  lines.push(`rollback  ${r.automatic.length} automatic, ${r.circuitBreakers.length} circuit breakers, ${r.immediate.length} immediate`);
  if (r.authority.length > 0) lines.push(...wrapList('  by      ', r.authority.map((x) => title(x.role))));
  const rotations = plan.roster.rotations.map((x) => `${x.role} ${x.handoff}`).join(', ');
  lines.push(
    `roster    ${plan.roster.people.length} people, ${plan.roster.roles.length} roles` +
      (rotations ? `, rotations: ${rotations}` : ''),
  );
  const severities = Object.entries(plan.roster.escalation).sort(([x], [y]) => x.localeCompare(y));
  severities.forEach(([sev, s], i) => {
    if (!s) return;
    const steps = s.steps.map((st) => (st.after === 'next_business_day' ? 'next business day' : st.after)).join(' / ');
    lines.push(`${i === 0 ? 'escalate  ' : '          '}${sev} ${s.description}: ${steps}`);
  });
  if (plan.loadTests.length > 0) {
    const byPhase = new Map<string, number>();
    for (const t of plan.loadTests) for (const p of typeof t.phase === 'string' ? [t.phase] : t.phase) byPhase.set(p, (byPhase.get(p) ?? 0) + 1);
    lines.push(`load      ${plan.loadTests.length} tests (${[...byPhase].map(([p, n]) => `${n} in ${p}`).join(', ')})`);
  } else {
    lines.push('load      no load tests');
  }
  if (plan.postRollout) lines.push(`post      ${plan.postRollout.validate.length} validation commands after 100%`);
  const kpiKinds = (['technical', 'business'] as const)
    .map((kind) => {
      const groups = Object.values(plan.kpis?.[kind] ?? {});
      return { kind, groups: groups.length, n: groups.reduce((acc, g) => acc + g.length, 0) };
    })
    .filter((k) => k.n > 0);
  if (kpiKinds.length > 0) {
    const n = kpiKinds.reduce((acc, k) => acc + k.n, 0);
    const groups = kpiKinds.reduce((acc, k) => acc + k.groups, 0);
    lines.push(`kpis      ${n} in ${groups} groups (${kpiKinds.map((k) => `${k.kind} ${k.n}`).join(', ')})`);
  }
  if (plan.checklists?.length) {
    const items = plan.checklists.reduce((acc, c) => acc + c.items.length, 0);
    lines.push(`checklist ${plan.checklists.length} lists, ${items} items`);
  }

  const t = planDuration(plan);
  const range = t.min === t.max ? formatDuration(t.max) : `${formatDuration(t.min)} to ${formatDuration(t.max)}`;
  lines.push(
    `duration  ${range}: every step's min to max bake` +
      (t.monitor > 0 ? ` + ${formatDuration(t.monitor)} of monitoring` : '') +
      ', plus time waiting at gates for approvals',
  );

  return fit(lines).join('\n');
}

/** Total plan time: the sum of every step's bake (min and max; a step without max counts its min in
 * both) plus the phases' `monitor` periods. Time spent waiting for approvals is not known. */
export function planDuration(plan: Plan): { min: number; max: number; monitor: number } {
  let min = 0;
  let max = 0;
  let monitor = 0;
  for (const phase of plan.phases) {
    for (const s of phase.steps) {
      const lo = parseDuration(s.bake.min) ?? 0;
      min += lo;
      max += s.bake.max === undefined ? lo : (parseDuration(s.bake.max) ?? lo);
    }
    if (phase.monitor) monitor += parseDuration(phase.monitor) ?? 0;
  }
  return { min: min + monitor, max: max + monitor, monitor };
}

function bakeText(min: string, max: string | undefined): string {
  if (max === undefined) return `≥${min}`;
  return parseDuration(min) === parseDuration(max) ? max : `${min}–${max}`;
}

/** `prefix` + comma-separated items, wrapped to the width with the prefix's indentation. */
function wrapList(prefix: string, items: string[]): string[] {
  const out: string[] = [];
  const indent = ' '.repeat(prefix.length);
  let line = prefix;
  items.forEach((item, i) => {
    const text = item + (i < items.length - 1 ? ',' : '');
    if (line.trim() && line.length + text.length + 1 > SUMMARY_MAX_COLS && line !== prefix) {
      out.push(line.trimEnd());
      line = indent;
    }
    line += (line === prefix || line === indent ? '' : ' ') + text;
  });
  out.push(line.trimEnd());
  return out;
}

/** `prefix` + comma-separated items on one line; items that do not fit become "+N more". */
function oneLine(prefix: string, items: string[]): string {
  for (let shown = items.length; shown > 0; shown--) {
    const rest = items.length - shown;
    const line = prefix + items.slice(0, shown).join(', ') + (rest > 0 ? `, +${rest} more` : '');
    if ([...line].length <= SUMMARY_MAX_COLS) return line;
  }
  return `${prefix}${items.length}`;
}

function fit(lines: string[]): string[] {
  const cut = lines.map((l) => (l.length > SUMMARY_MAX_COLS ? `${l.slice(0, SUMMARY_MAX_COLS - 1)}…` : l));
  if (cut.length <= SUMMARY_MAX_LINES) return cut;
  return [...cut.slice(0, SUMMARY_MAX_LINES - 1), `… ${cut.length - SUMMARY_MAX_LINES + 1} more lines`];
}
