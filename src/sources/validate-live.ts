// `canary validate <plan> --against <url>`: every SLI query of the plan, for every track, sent once
// to a live Prometheus, and what the engine would make of each answer: a query that fails, a shape
// that is not one number (several series, a matrix), an impossible value (+Inf, NaN, out of the
// SLI's range), warnings, or no data (often analysis.tracks naming label values the exporter does
// not use). Read-only: instant queries, one round, each with the client's timeout. Everything a
// server said (an error, warnings, label values) is shown through printable(): a hostile or broken
// server's escape sequences come out as ␛..., never obeyed by the terminal.
import { impossible, rawText } from '../engine/evidence.js';
import { formatDuration, parseDuration } from '../plan/duration.js';
import { printable } from '../plan/printable.js';
import type { Plan } from '../plan/schema.js';
import { trackLabels, type SliTrack } from '../plan/tracks.js';
import { PrometheusClient, isPromError, sliAnswer } from './prometheus.js';
import type { PrometheusClientOptions } from './prometheus.js';
import { CLOCK_SKEW_TOLERANCE_MS, aheadMessage, answerAge, isoTime, planQueries } from './prometheus-source.js';

export interface LiveFinding {
  /** `slis[2].query`: where in the plan. */
  path: string;
  sli: string;
  track: SliTrack;
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

/** Sends every SLI query once (for canary, baseline and the stable fleet; a PromQL text shared by
 * two tracks once) and says what each answer is worth. An empty answer for the stable fleet, which
 * carries the traffic now, is a problem: the first gate would never open on it, and it nearly
 * always means a metric or label name that does not exist. An answer older than staleAfter by its
 * own time is a problem too (a cache in front of Prometheus). Never throws for a server's answer; a
 * bad URL or options throw the client's own clear Error. `now`: real epoch ms (tests). */
export async function checkAgainst(plan: Plan, client: Pick<PrometheusClient, 'query' | 'baseUrl'>, now: () => number = Date.now): Promise<LiveCheck> {
  const queries = planQueries(plan);
  const labels = trackLabels(plan);
  const staleMs = parseDuration(plan.analysis.staleAfter) ?? 180_000;
  const index = new Map(plan.slis.map((s, i) => [s.name, i]));
  const unit = new Map(plan.slis.map((s) => [s.name, s.unit]));
  const sent = new Map<string, Promise<{ ok: true; result: Awaited<ReturnType<typeof client.query>>; sentAt: number } | { ok: false; error: string }>>();
  const ask = (promql: string) => {
    let p = sent.get(promql);
    if (!p) {
      const sentAt = now();
      p = client.query(promql).then(
        (result) => ({ ok: true as const, result, sentAt }),
        (e: unknown) => ({ ok: false as const, error: isPromError(e) ? e.message : e instanceof Error ? e.message : String(e) }),
      );
      sent.set(promql, p);
    }
    return p;
  };
  const outcomes = await Promise.all(queries.map((q) => ask(q.promql)));
  const empty = new Set<string>(); // sli/track pairs that matched nothing
  const findings: LiveFinding[] = queries.map((q, i): LiveFinding => {
    const f = finding(q, i);
    // The text quotes the server (its error, warnings, label values): shown, never obeyed.
    return { ...f, text: printable(f.text) };
  });
  function finding(q: (typeof queries)[number], i: number): LiveFinding {
    const o = outcomes[i]!;
    const base = { path: `slis[${index.get(q.sli)}].query`, sli: q.sli, track: q.track };
    if (!o.ok) return { ...base, level: 'problem', text: o.error };
    const warn = o.result.warnings.length ? `; warnings: ${o.result.warnings.join('; ')}` : '';
    const a = sliAnswer(o.result);
    if ('error' in a) return { ...base, level: 'problem', text: `${a.error}${warn}` };
    if (a.value === null) {
      empty.add(`${q.sli}/${q.track}`);
      if (q.track === 'stable' || labels[q.track] === labels.stable)
        return { ...base, level: 'problem', text: `no data: the query matched nothing on the stable fleet ($track="${labels.stable}"), which carries the traffic now - usually a metric or label name that does not exist (try the query in Prometheus' graph page), or analysis.tracks.stable is not the label value the exporter uses; run would never open the first gate on it${warn}` };
      return { ...base, level: 'note', text: `no data: the query matched nothing (expected before the rollout if the ${q.track} takes no traffic yet; otherwise does the exporter label ${q.track} as $track="${labels[q.track]}"? analysis.tracks says which label values mean canary, baseline and stable)${warn}` };
    }
    const stale = a.at !== undefined ? answerAge(o.sentAt, a.at) : { ageMs: 0, aheadMs: 0 };
    if (stale.ageMs > staleMs)
      return { ...base, level: 'problem', text: `${rawText(a.value)}, but the answer is ${formatDuration(stale.ageMs)} old (evaluated at ${isoTime(a.at!)}; staleAfter ${plan.analysis.staleAfter}): a caching proxy or a stuck query frontend answers from an old evaluation, or Prometheus' clock is behind this machine's (clock skew: check NTP on both); run draws it stale, and never counts it as evidence past noDataAfter (${plan.analysis.noDataAfter})${warn}` };
    if (stale.aheadMs > 0)
      return { ...base, level: 'problem', text: `${rawText(a.value)}, but the answer is stamped ${formatDuration(stale.aheadMs)} in the future (evaluated at ${isoTime(a.at!)}; the tolerance is ${formatDuration(CLOCK_SKEW_TOLERANCE_MS)}): ${aheadMessage(stale.aheadMs, a.at!, o.sentAt)}; run never counts it as evidence, and the source fails while it lasts${warn}` };
    const bad = impossible(a.value, unit.get(q.sli)!);
    if (bad !== null) return { ...base, level: 'problem', text: `invalid data: ${bad} (run would never count it as a pass)${warn}` };
    if (warn) return { ...base, level: plan.sources.prometheus?.warnings === 'show' ? 'note' : 'problem', text: `${rawText(a.value)}${warn}` };
    return { ...base, level: 'ok', text: rawText(a.value) };
  }
  const problems = findings.filter((f) => f.level === 'problem').length;
  const notes = findings.filter((f) => f.level === 'note').length;
  const unwatched = [...new Set(findings.filter((f) => f.level === 'problem' && empty.has(`${f.sli}/${f.track}`)).map((f) => f.sli))];
  const mark = { problem: '✗', note: '!', ok: '✓' } as const;
  const lines = findings.map((f) => `${mark[f.level]} ${f.path} ${f.sli}/${f.track}: ${f.text}`);
  if (unwatched.length)
    lines.push(`✗ ${unwatched.length} SLI quer${unwatched.length === 1 ? 'y' : 'ies'} matched nothing on the stable fleet (${unwatched.join(', ')}): check the metric and label names; the first gate would never open`);
  lines.push(
    problems === 0
      ? `✓ every SLI query answered ${printable(client.baseUrl)} with one number${notes ? ` (${notes} without data or with a note: see above)` : ''}`
      : `✗ ${problems} SLI quer${problems === 1 ? 'y' : 'ies'} of ${findings.length} would not give run a valid value from ${printable(client.baseUrl)}`,
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
