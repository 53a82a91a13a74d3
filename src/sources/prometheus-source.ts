// The plan's SLIs, measured by a real Prometheus. Every `periodMs` of real time the source sends
// every SLI query for every track at once (`$track` substituted), waits for all of them, and emits
// ONE `sli.samples` event holding every sample: a value, or null when the query found no data or
// failed. A failing query only nulls its own SLI/track; the failure is kept in `lastError` and
// reported through `onStatus` when it changes (there is no engine event for source health yet).
//
// Ticks never overlap: when the previous tick's queries are still in flight at the next period,
// that period is skipped (and counted), so a slow Prometheus is not buried under retries.
// `stop()` aborts whatever is in flight; nothing is emitted after it.
//
// Prometheus evaluates the instant queries at its own "now" (no `time` is sent), so the source
// also works when the engine runs on a simulated clock; the event's `at` is `clock.now()`.
//
// An answer's age is its own: an instant query's timestamp is when it was evaluated, so an answer
// stamped long before the query was sent is a cached or frozen one (a caching proxy, a stuck
// Thanos/Mimir query frontend). Such a sample carries `measuredAt` (that time on the clock) and the
// engine draws it stale with its real age, and never counts it past noDataAfter. Clock skew between
// this machine and Prometheus is bounded by CLOCK_SKEW_TOLERANCE_MS: an answer at most that much
// older than the query (or from up to that far in the future) counts as measured when sent, so a
// few seconds of skew never moves a sample's time and cannot flap anything. An answer from further
// in the future is never evidence: its sample is an error and the source fails ("Prometheus' clock
// is 1h ahead of this machine's ... check NTP"), so the gates hold and noDataAfter applies as for
// any failing source (a frozen answer stamped an hour ahead would otherwise never age). And an
// evaluation time a query already answered is not a new sample: a repeated answer keeps the time it
// was first seen (or its own, if older), so a frozen answer ages from then, stamp or no stamp.
//
// Besides canary and baseline, every SLI query is sent for the stable fleet (analysis.tracks.stable),
// which carries the traffic before the canary takes any: the first gate needs its answers. A track
// whose label value is another's (e.g. `baseline: stable`) is asked once and answers for both.
import { setMaxListeners } from 'node:events';
import type { EngineEvent, SliSample } from '../engine/types.js';
import type { Plan } from '../plan/schema.js';
import { trackLabels, type SliTrack } from '../plan/tracks.js';
import { formatDuration, parseDuration } from '../plan/duration.js';
import type { Clock, Emit, Source } from '../runtime/ports.js';
import { MAX_POINTS_PER_SERIES, PromError, shortenQuery, sliAnswer } from './prometheus.js';
import type { PrometheusClient, PrometheusClientOptions, QueryResult } from './prometheus.js';

/** What the source needs from a client (a PrometheusClient, or a stand-in). */
export type PromQuerier = Pick<PrometheusClient, 'query' | 'queryRange'>;

export interface PrometheusSourceStatus {
  /** Every query of the last round (tick or backfill) answered. */
  ok: boolean;
  /** Clock time of that round. */
  at: number;
  /** The first failure of the last round (plan order), or null. */
  lastError: PromError | null;
  /** Every failed query of the last round. */
  failures: { sli: string; track: SliTrack; error: PromError }[];
  /** Prometheus warnings and SLI-shape problems (e.g. a query returning several series), "sli/track: text". */
  warnings: string[];
  /** Clock time of the last round in which at least one query answered. */
  lastSuccessAt: number | null;
  skippedTicks: number;
  /** Answers older than staleAfter by their own time: how many, how old, and what it usually is. */
  stale?: string;
  /** Answers stamped beyond CLOCK_SKEW_TOLERANCE_MS in the future: how far, and what to check. */
  ahead?: string;
}

export interface PrometheusSourceOptions {
  plan: Plan;
  client: PromQuerier;
  clock: Clock;
  /** Real ms between rounds of queries (default 1000). */
  periodMs?: number;
  /** Default: canary, baseline and stable. */
  tracks?: SliTrack[];
  /** Called after the first round and whenever the set of failures or warnings changes. */
  onStatus?: (status: PrometheusSourceStatus) => void;
  /** Real epoch ms, to place backfilled points on the clock (Date.now by default). */
  realNow?: () => number;
}

interface SliQuery {
  sli: string;
  track: SliTrack;
  promql: string;
}

/** Skew allowed between this machine's clock and Prometheus': an answer stamped up to this long
 * before the query was sent (or after it) counts as measured when the query was sent. NTP keeps
 * clocks within milliseconds; 15 s also covers a query frontend that aligns "now" to a 10 s step,
 * and is far below any sensible staleAfter (minutes). */
export const CLOCK_SKEW_TOLERANCE_MS = 15_000;

type Outcome = { ok: true; result: QueryResult } | { ok: false; error: PromError };

/** Client options from the plan's `sources.prometheus` (null when the plan has none). Credentials,
 * headers and TLS settings are not in the plan: pass them in `extra`. */
export function clientOptionsFromPlan(plan: Plan, extra: Partial<PrometheusClientOptions> = {}): PrometheusClientOptions | null {
  const p = plan.sources.prometheus;
  if (!p) return null;
  return { url: p.url, timeoutMs: parseDuration(p.timeout) ?? 5_000, ...extra };
}

/** `$track` in an SLI query replaced by the label value that means the track (the plan's
 * `analysis.tracks`: canary -> "canary", baseline -> "baseline" unless it says otherwise). */
export function sliQuery(query: string, trackValue: string): string {
  return query.split('$track').join(trackValue);
}

/** Every SLI query of the plan, per track, as it is sent (the same PromQL may appear for two tracks
 * whose label values are the same). */
export function planQueries(plan: Plan, tracks: readonly SliTrack[] = ['canary', 'baseline', 'stable']): SliQuery[] {
  const labels = trackLabels(plan);
  return plan.slis.flatMap((sli) => tracks.map((track) => ({ sli: sli.name, track, promql: sliQuery(sli.query, labels[track]) })));
}

/** How old an answer stamped `answerAt` is when the query went out at `sentAt` (real ms), with the
 * clock-skew tolerance applied: 0 for an answer within it; `ahead` when it is further in the future
 * (such an answer is never evidence: see `aheadMessage`). */
export function answerAge(sentAt: number, answerAt: number): { ageMs: number; aheadMs: number } {
  const d = sentAt - answerAt;
  if (d > CLOCK_SKEW_TOLERANCE_MS) return { ageMs: d, aheadMs: 0 };
  if (-d > CLOCK_SKEW_TOLERANCE_MS) return { ageMs: 0, aheadMs: -d };
  return { ageMs: 0, aheadMs: 0 };
}

/** An epoch-ms time as ISO 8601, or as the number itself when Date cannot show it (a hostile
 * timestamp past year 275760 would make toISOString throw). */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? `${ms} ms since 1970` : d.toISOString();
}

/** Why an answer stamped `aheadMs` in the future of this machine's clock is not evidence: the clocks
 * disagree (or something caches answers under a future time). Prometheus sends seconds; an answer
 * whose time read as milliseconds is "now" was sent in milliseconds. `sentAt`, `answerAt`: epoch ms. */
export function aheadMessage(aheadMs: number, answerAt: number, sentAt: number): string {
  const millis = Math.abs(answerAt / 1000 - sentAt) < 86_400_000
    ? ` (stamped ${isoTime(answerAt)}: the server sends times in milliseconds where Prometheus sends seconds)`
    : '';
  return `Prometheus' clock is ${formatDuration(aheadMs)} ahead of this machine's (or the answer is cached with a future time): check NTP${millis}`;
}

/** The sample error of an answer stamped beyond the tolerance in the future (the same every round,
 * so the engine says it once; the source's status carries how far ahead). */
const AHEAD_SAMPLE_ERROR = `answer stamped more than ${CLOCK_SKEW_TOLERANCE_MS / 1000} s in the future of this machine's clock (check NTP: see source prometheus)`;

export class PrometheusSource implements Source {
  readonly name = 'prometheus';
  readonly periodMs: number;
  /** The first failure of the last round, or null when every query answered. */
  lastError: PromError | null = null;
  /** Clock time of the last round in which at least one query answered. */
  lastSuccessAt: number | null = null;
  /** Periods skipped because the previous tick was still in flight. */
  skippedTicks = 0;

  private readonly client: PromQuerier;
  private readonly clock: Clock;
  private readonly onStatus: ((status: PrometheusSourceStatus) => void) | undefined;
  private readonly realNow: () => number;
  private readonly queries: SliQuery[];
  /** The distinct PromQL texts, each sent once per round; `sends[i]` is the index of query i's. */
  private readonly distinct: string[];
  private readonly sends: number[];
  private readonly staleMs: number;
  private emit: Emit | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private inFlight: Promise<void> | null = null;
  private readonly controllers = new Set<AbortController>();
  private readonly pending = new Set<Promise<unknown>>();
  private lastSignature: string | null = null;
  private lastStatus: PrometheusSourceStatus | null = null;
  /** Per distinct query: the evaluation time of its last answer, when that was first seen (real ms)
   * and the clock time its sample was given then. */
  private readonly seen = new Map<number, { answerAt: number; firstSentReal: number; sampleAt: number }>();

  constructor(opts: PrometheusSourceOptions) {
    this.client = opts.client;
    this.clock = opts.clock;
    this.periodMs = Math.max(1, opts.periodMs ?? 1000);
    this.onStatus = opts.onStatus;
    this.realNow = opts.realNow ?? (() => Date.now());
    const tracks = opts.tracks ?? ['canary', 'baseline', 'stable'];
    this.queries = planQueries(opts.plan, tracks);
    const at = new Map<string, number>();
    this.sends = this.queries.map((q) => {
      let i = at.get(q.promql);
      if (i === undefined) at.set(q.promql, (i = at.size));
      return i;
    });
    this.distinct = [...at.keys()];
    this.staleMs = parseDuration(opts.plan.analysis.staleAfter) ?? 180_000;
  }

  start(emit: Emit): void {
    if (this.timer !== null) return; // already running
    this.emit = emit;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.periodMs);
    this.timer.unref();
  }

  /** Stops the timer, aborts what is in flight and waits for it to settle. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.emit = null;
    for (const c of this.controllers) c.abort();
    await Promise.allSettled([...this.pending]);
  }

  /** One round of instant queries; skipped (and counted) while the previous one is in flight.
   * Exposed so that a caller (or a test) can step the source without the timer. */
  tick(): Promise<void> {
    if (this.emit === null) return Promise.resolve();
    if (this.inFlight !== null) {
      this.skippedTicks += 1;
      return Promise.resolve();
    }
    const run = this.track((signal) => this.runTick(signal)).finally(() => {
      this.inFlight = null;
    });
    this.inFlight = run;
    return run;
  }

  /**
   * History for the sparklines: the last `points` periods (spaced `periodMs`, ending now) through
   * query_range, as ONE `sli.history` event at the clock's now whose points keep their own times
   * (so the journal stays in time order). Steps where a series has no point are null; a query that
   * failed or returned several series contributes nothing (the status says why). When every query
   * fails nothing is learned and the result is empty (the error is in `lastError`). Call it once for
   * the points the view lacks; ticks then add instant values.
   */
  async backfill(points: number): Promise<EngineEvent[]> {
    const n = Math.min(Math.floor(points), MAX_POINTS_PER_SERIES);
    if (!(n > 0)) return [];
    return this.track(async (signal) => {
      const step = this.periodMs;
      const endReal = this.realNow();
      const startReal = endReal - (n - 1) * step;
      const sent = await Promise.all(
        this.distinct.map((promql, i) =>
          // The stable fleet has no history in the engine: its range queries are not sent.
          this.queries.some((q, qi) => this.sends[qi] === i && q.track !== 'stable')
            ? settle(this.client.queryRange(promql, startReal, endReal, step, { signal }), promql)
            : Promise.resolve(null),
        ),
      );
      const outcomes = this.queries.map((q, qi): Outcome => sent[this.sends[qi]!] ?? { ok: true, result: { resultType: 'matrix', series: [], warnings: [], infos: [] } });
      if (signal.aborted) return [];
      const clockNow = this.clock.now();
      const grid: (number | null)[][] = Array.from({ length: n }, () => this.queries.map(() => null));
      const warnings: string[] = [];
      const usable = this.queries.map(() => false);
      outcomes.forEach((o, qi) => {
        if (!o.ok) return;
        const q = this.queries[qi]!;
        if (q.track === 'stable') return;
        for (const w of o.result.warnings) warnings.push(`${q.sli}/${q.track}: ${w}`);
        if (o.result.series.length > 1) {
          warnings.push(`${q.sli}/${q.track}: query returned ${o.result.series.length} series; the plan expects one - add a sum() or a label matcher`);
          return;
        }
        usable[qi] = true;
        for (const [t, v] of o.result.series[0]?.points ?? []) {
          const k = Math.round((t - startReal) / step);
          if (k >= 0 && k < n) grid[k]![qi] = v;
        }
      });
      const anyOk = outcomes.some((o, qi) => o.ok && this.queries[qi]!.track !== 'stable');
      this.record(clockNow, outcomes.map((o, qi) => (this.queries[qi]!.track === 'stable' ? null : o)), warnings, null);
      if (!anyOk) return [];
      const speed = this.clock.speed;
      return [
        {
          type: 'sli.history',
          at: clockNow,
          points: grid.map((row, k) => ({
            t: clockNow - (endReal - (startReal + k * step)) * speed,
            samples: row.flatMap((value, qi) => (usable[qi] ? [{ sli: this.queries[qi]!.sli, track: this.queries[qi]!.track, value }] : [])),
          })),
        },
      ];
    });
  }

  /** The status as of the last round. */
  status(): PrometheusSourceStatus {
    return this.lastStatus ?? {
      ok: true,
      at: this.clock.now(),
      lastError: null,
      failures: [],
      warnings: [],
      lastSuccessAt: this.lastSuccessAt,
      skippedTicks: this.skippedTicks,
    };
  }

  // -------------------------------------------------------------------------------------------

  private async runTick(signal: AbortSignal): Promise<void> {
    // When the queries went out: what the values measure (a weight confirmed while they were in
    // flight is not what they saw).
    const measuredAt = this.clock.now();
    const sentReal = this.realNow();
    const sent = await Promise.all(this.distinct.map((promql) => settle(this.client.query(promql, undefined, { signal }), promql)));
    const outcomes = this.queries.map((_, i) => sent[this.sends[i]!]!);
    const emit = this.emit;
    if (signal.aborted || emit === null) return; // stopped meanwhile: nothing to say
    const at = this.clock.now();
    const speed = this.clock.speed;
    const warnings: string[] = [];
    let old: Aged | null = null;
    let ahead: Aged | null = null;
    // The largest age (or lead) of a round, its answer's time, how many, and the first one's name.
    const aged = (acc: Aged | null, ms: number, answerAt: number, what: string): Aged =>
      acc === null ? { ageMs: ms, answerAt, count: 1, first: what } : ms > acc.ageMs ? { ageMs: ms, answerAt, count: acc.count + 1, first: acc.first } : { ...acc, count: acc.count + 1 };
    const samples: SliSample[] = this.queries.map((q, i) => {
      const o = outcomes[i]!;
      if (!o.ok) return { sli: q.sli, track: q.track, value: null, error: o.error.message };
      const w = o.result.warnings;
      for (const x of w) warnings.push(`${q.sli}/${q.track}: ${x}`);
      const answer = sliAnswer(o.result);
      const extra = w.length ? { warnings: [...w] } : {};
      if ('error' in answer) {
        warnings.push(`${q.sli}/${q.track}: ${answer.error}`);
        return { sli: q.sli, track: q.track, value: null, error: answer.error, ...extra };
      }
      if (answer.at === undefined) return { sli: q.sli, track: q.track, value: answer.value, ...extra };
      const age = answerAge(sentReal, answer.at);
      if (age.aheadMs > 0) {
        // Never evidence: a frozen answer an hour ahead would never age, and nothing measured it now.
        ahead = aged(ahead, age.aheadMs, answer.at, `${q.sli}/${q.track}`);
        return { sli: q.sli, track: q.track, value: null, error: AHEAD_SAMPLE_ERROR, ...extra };
      }
      // An evaluation time this query already answered is the same sample again (a frozen or
      // cached answer): it ages from when it was first seen, or from its own time if that is older.
      const send = this.sends[i]!;
      const before = this.seen.get(send);
      const repeatMs = before !== undefined && before.answerAt === answer.at ? sentReal - before.firstSentReal : 0;
      const ageMs = Math.max(age.ageMs, repeatMs);
      const sampleAt = Math.min(measuredAt - ageMs * speed, before !== undefined && before.answerAt === answer.at ? before.sampleAt : Infinity);
      if (before === undefined || before.answerAt !== answer.at) this.seen.set(send, { answerAt: answer.at, firstSentReal: sentReal, sampleAt });
      if (ageMs > 0) old = aged(old, ageMs, answer.at, `${q.sli}/${q.track}`);
      if (sampleAt >= measuredAt) return { sli: q.sli, track: q.track, value: answer.value, ...extra };
      return { sli: q.sli, track: q.track, value: answer.value, measuredAt: sampleAt, ...extra };
    });
    const lead = ahead as Aged | null; // assigned in the callback above: TS does not see it
    this.record(at, outcomes, warnings, old, lead === null ? null : { ...lead, sentAt: sentReal });
    emit({ type: 'sli.samples', at, samples, ...(measuredAt < at ? { measuredAt } : {}) });
  }

  /** `outcomes[i]` null: query i was not sent this round. `old`: the answers older than the skew
 * tolerance (or repeated); past staleAfter they make the source unhealthy (the rollout holds and
 * says why). `ahead`: the answers stamped beyond the tolerance in the future; any makes it unhealthy. */
  private record(at: number, outcomes: (Outcome | null)[], warnings: string[], old: Aged | null, ahead: (Aged & { sentAt: number }) | null = null): void {
    const failures = outcomes.flatMap((o, i) => (o === null || o.ok ? [] : [{ sli: this.queries[i]!.sli, track: this.queries[i]!.track, error: o.error }]));
    this.lastError = failures[0]?.error ?? null;
    if (outcomes.some((o) => o?.ok)) this.lastSuccessAt = at;
    const staleText = old !== null && old.ageMs > this.staleMs ? staleMessage(old, this.queries.length, this.staleMs) : null;
    const aheadText = ahead !== null ? `${aheadMessage(ahead.ageMs, ahead.answerAt, ahead.sentAt)}: ${ahead.count} of ${this.queries.length} answers stamped up to ${formatDuration(ahead.ageMs)} ahead (e.g. ${ahead.first}), never counted as evidence` : null;
    const status: PrometheusSourceStatus = {
      ok: failures.length === 0 && staleText === null && aheadText === null,
      ...(staleText !== null ? { stale: staleText } : {}),
      ...(aheadText !== null ? { ahead: aheadText } : {}),
      at,
      lastError: this.lastError,
      failures,
      warnings,
      lastSuccessAt: this.lastSuccessAt,
      skippedTicks: this.skippedTicks,
    };
    this.lastStatus = status;
    // The stale answers' age grows (and a frozen future answer's lead shrinks) every round: only
    // whether there are any changes the signature.
    const signature = JSON.stringify([failures.map((f) => [f.sli, f.track, f.error.kind, f.error.message]), warnings, staleText !== null, aheadText !== null]);
    if (signature === this.lastSignature) return;
    this.lastSignature = signature;
    this.onStatus?.(status);
    // The engine hears about it too, so the rollout holds and the screen says why.
    const message = [failures.length ? statusMessage(failures, this.queries.length) : null, aheadText, staleText].filter((m) => m !== null).join('; ') || null;
    this.emit?.({ type: 'source.status', at, source: this.name, ok: status.ok, ...(message ? { message } : {}) });
  }

  /** Runs `work` with an AbortController that `stop()` aborts, and remembers the promise. */
  private track<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    setMaxListeners(0, controller.signal); // one listener per query of the round, all at once
    this.controllers.add(controller);
    const p = work(controller.signal).finally(() => {
      this.controllers.delete(controller);
      this.pending.delete(p);
    });
    this.pending.add(p);
    return p;
  }
}

async function settle(p: Promise<QueryResult>, promql: string): Promise<Outcome> {
  try {
    return { ok: true, result: await p };
  } catch (err) {
    if (err instanceof PromError) return { ok: false, error: err };
    // A stand-in client threw something else: keep only its message.
    return {
      ok: false,
      error: new PromError({
        kind: 'bad-response',
        endpoint: 'query',
        query: shortenQuery(promql),
        what: err instanceof Error ? err.message : String(err),
        hint: 'See the client in use',
      }),
    };
  }
}

interface Aged {
  /** The oldest answer's age (real ms) and its own time (epoch ms). */
  ageMs: number;
  answerAt: number;
  count: number;
  first: string;
}

/** One line for the screen: answers older than staleAfter, how old, and what that usually is. */
function staleMessage(old: Aged, total: number, staleMs: number): string {
  return `${old.count} of ${total} answers are up to ${formatDuration(old.ageMs)} old (e.g. ${old.first}, evaluated at ${isoTime(old.answerAt)}; staleAfter ${formatDuration(staleMs)}): Prometheus answered from an old evaluation - a caching proxy or a stuck query frontend (Thanos, Mimir) in front of it, or Prometheus' clock is behind this machine's (clock skew: check NTP on both). Query Prometheus itself, or fix the cache or the clock`;
}

/** One line for the screen: the first failure's message and how many queries failed. */
function statusMessage(failures: { sli: string; track: string; error: PromError }[], total: number): string {
  const first = failures[0];
  if (!first) return '';
  const more = failures.length > 1 ? ` (${failures.length} of ${total} queries failing)` : '';
  return `${first.sli}/${first.track}: ${first.error.message}${more}`;
}
