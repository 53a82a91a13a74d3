// `canary validate <plan> --against <url>`: every SLI query of the plan, for both tracks, sent once
// to a live Prometheus, and what the engine would make of each answer: a query that fails, a shape
// that is not one number (several series, a matrix), an impossible value (+Inf, NaN, out of the
// SLI's range), warnings, or no data (often analysis.tracks naming label values the exporter does
// not use). Read-only: instant queries, one round, each with the client's timeout.
import { impossible, rawText } from '../engine/evidence.js';
import type { Plan } from '../plan/schema.js';
import { PrometheusClient, isPromError, sliAnswer } from './prometheus.js';
import type { PrometheusClientOptions } from './prometheus.js';
import { planQueries } from './prometheus-source.js';

export interface LiveFinding {
  /** `slis[2].query`: where in the plan. */
  path: string;
  sli: string;
  track: 'canary' | 'baseline';
  /** problem: run would hold on it (or the query is wrong); note: worth a look. */
  level: 'problem' | 'note' | 'ok';
  text: string;
}

export interface LiveCheck {
  ok: boolean;
  findings: LiveFinding[];
  /** One line per query, then a summary line. */
  lines: string[];
}

/** Sends every SLI query once and says what each answer is worth. Never throws for a server's
 * answer; a bad URL or options throw the client's own clear Error. */
export async function checkAgainst(plan: Plan, client: Pick<PrometheusClient, 'query' | 'baseUrl'>): Promise<LiveCheck> {
  const queries = planQueries(plan);
  const index = new Map(plan.slis.map((s, i) => [s.name, i]));
  const unit = new Map(plan.slis.map((s) => [s.name, s.unit]));
  const outcomes = await Promise.all(
    queries.map(async (q) => {
      try {
        return { ok: true as const, result: await client.query(q.promql) };
      } catch (e) {
        return { ok: false as const, error: isPromError(e) ? e.message : e instanceof Error ? e.message : String(e) };
      }
    }),
  );
  const findings: LiveFinding[] = queries.map((q, i) => {
    const o = outcomes[i]!;
    const base = { path: `slis[${index.get(q.sli)}].query`, sli: q.sli, track: q.track };
    if (!o.ok) return { ...base, level: 'problem', text: o.error };
    const warn = o.result.warnings.length ? `; warnings: ${o.result.warnings.join('; ')}` : '';
    const a = sliAnswer(o.result);
    if ('error' in a) return { ...base, level: 'problem', text: `${a.error}${warn}` };
    if (a.value === null)
      return { ...base, level: 'note', text: `no data: the query matched nothing (are the series there yet? does the exporter label ${q.track} as $track="${plan.analysis.tracks[q.track]}"? analysis.tracks says which label values mean canary and baseline)${warn}` };
    const bad = impossible(a.value, unit.get(q.sli)!);
    if (bad !== null) return { ...base, level: 'problem', text: `invalid data: ${bad} (run would never count it as a pass)${warn}` };
    if (warn) return { ...base, level: plan.sources.prometheus?.warnings === 'show' ? 'note' : 'problem', text: `${rawText(a.value)}${warn}` };
    return { ...base, level: 'ok', text: rawText(a.value) };
  });
  const problems = findings.filter((f) => f.level === 'problem').length;
  const notes = findings.filter((f) => f.level === 'note').length;
  const mark = { problem: '✗', note: '!', ok: '✓' } as const;
  const lines = findings.map((f) => `${mark[f.level]} ${f.path} ${f.sli}/${f.track}: ${f.text}`);
  lines.push(
    problems === 0
      ? `✓ every SLI query answered ${client.baseUrl} with one number${notes ? ` (${notes} without data: see above)` : ''}`
      : `✗ ${problems} SLI quer${problems === 1 ? 'y' : 'ies'} of ${findings.length} would not give run a valid value from ${client.baseUrl}`,
  );
  return { ok: problems === 0, findings, lines };
}

/** `canary validate --against URL`: connects with `opts`, checks, closes; returns the exit code. */
export async function runValidateAgainst(plan: Plan, opts: PrometheusClientOptions, out: NodeJS.WritableStream): Promise<number> {
  const client = new PrometheusClient(opts);
  try {
    const r = await checkAgainst(plan, client);
    out.write(`${r.lines.join('\n')}\n`);
    return r.ok ? 0 : 1;
  } finally {
    client.close();
  }
}
