// The runbook's commands, carried out: each runs through execCommand (exec.ts), the same way the
// rollback hook and the notifier's command channel run (own process group, timeout, output
// captured and streamed, secrets scrubbed, exit code reported). On the embedded simulated world a
// step's `sim` stand-in runs instead of the real command (which is only shown), so `npm start`
// never runs `helm` against whatever cluster the machine's kubeconfig points at.
import type { Plan } from '../plan/schema.js';
import { normalCommand } from '../plan/runbook-commands.js';
import { formatDuration, parseDuration } from '../plan/duration.js';
import type { ActuationResult, CommandOutcome, CommandRunner, RunCommandEffect, TrafficActuator } from '../runtime/ports.js';
import { describeExit, execCommand, scrub, secretsOf } from './exec.js';
import { runHook } from './hook.js';
import type { PrometheusClient } from '../sources/prometheus.js';

export type RunMode = 'real' | 'sim';

export interface PlanCommandRunnerOptions {
  mode: RunMode;
  /** Commands run here (the plan's directory: `./scripts/...` is beside the plan). */
  cwd: string;
  /** Environment the commands start from (CanaryEnv.vars, src/env.ts). */
  env: Readonly<Record<string, string | undefined>>;
  /** Variables whose values are secrets (the plan's runbook.secretEnv). */
  secretEnv?: readonly string[];
  /** More variables for the embedded world's stand-ins (CANARY_SIM_URL: the simulated service). */
  simEnv?: Record<string, string>;
  /** PromQL for checklist checks; absent: query checks need a `sim`. */
  query?: (promql: string, timeoutMs: number) => Promise<QueryAnswer>;
  /** How a query check's answer is judged, from the plan: a series older than `staleMs` (the
   * plan's analysis.staleAfter) does not pass, nor does one with Prometheus warnings while
   * `warnings` is `inconclusive` (sources.prometheus.warnings). */
  queryRules?: { staleMs: number; warnings: 'inconclusive' | 'show' };
  /** Wall-clock time (ms) for the age of a query check's answer. Default Date.now. */
  now?: () => number;
  /** Output is handed on at most this often (real ms). */
  batchMs?: number;
}

/** A checklist check's answer: each series with its labels, value and evaluation time (ms). */
export interface QueryAnswer {
  series: { labels: string; value: number; at: number }[];
  warnings: string[];
}

/** A checklist check's PromQL asked of Prometheus: each series' labels, newest value and time. */
export function queryLines(prom: Pick<PrometheusClient, 'query'>): NonNullable<PlanCommandRunnerOptions['query']> {
  return async (q, timeoutMs) => {
    const r = await prom.query(q, undefined, { signal: AbortSignal.timeout(timeoutMs) });
    return {
      series: r.series.map((s) => {
        const p = s.points.at(-1);
        return { labels: `{${Object.entries(s.metric).map(([k, v]) => `${k}="${v}"`).join(',')}}`, value: p ? p[1] : NaN, at: p ? p[0] : NaN };
      }),
      warnings: r.warnings,
    };
  };
}

/** The plan's rules for a query check's answer (analysis.staleAfter, sources.prometheus.warnings). */
export function queryRulesOf(plan: Plan): NonNullable<PlanCommandRunnerOptions['queryRules']> {
  return { staleMs: parseDuration(plan.analysis.staleAfter) ?? 180_000, warnings: plan.sources.prometheus?.warnings ?? 'inconclusive' };
}

export class PlanCommandRunner implements CommandRunner {
  private readonly running = new Map<number, AbortController>();

  constructor(private readonly o: PlanCommandRunnerOptions) {}

  async run(e: RunCommandEffect, onLines: (lines: string[]) => void): Promise<CommandOutcome> {
    if (e.query && this.o.mode === 'real') return this.runQuery(e, onLines);
    if (e.webhookEnv && (this.o.mode === 'real' || e.sim === undefined)) return this.runWebhook(e, onLines);
    const command = this.o.mode === 'sim' ? e.sim : e.run;
    if (command === undefined)
      return { ok: true, skipped: true, exitCode: null, detail: e.query ? 'not checked on the simulated world (no sim stand-in); tick it by hand' : 'not run on the simulated world: the plan gives no sim stand-in' };
    const env: NodeJS.ProcessEnv = { ...this.o.env, ...e.env, ...(this.o.mode === 'sim' ? this.o.simEnv : {}), CANARY_RUN_PURPOSE: e.purpose };
    const ctl = new AbortController();
    this.running.set(e.id, ctl);
    let batch: string[] = [];
    let timer: NodeJS.Timeout | null = null;
    const flush = () => {
      if (timer) clearTimeout(timer);
      timer = null;
      if (batch.length === 0) return;
      const out = batch;
      batch = [];
      onLines(out);
    };
    try {
      const r = await execCommand({
        command,
        env,
        cwd: this.o.cwd,
        timeoutMs: e.timeoutMs,
        secrets: secretsOf(env, this.o.secretEnv),
        signal: ctl.signal,
        keep: 20,
        onLine: (line) => {
          batch.push(line);
          if (!timer) timer = setTimeout(flush, this.o.batchMs ?? 100);
        },
      });
      flush();
      const how = describeExit(r, e.timeoutMs);
      return { ok: r.code === 0, exitCode: r.code, detail: this.o.mode === 'sim' ? `${how} (simulated)` : how };
    } finally {
      if (timer) clearTimeout(timer);
      this.running.delete(e.id);
    }
  }

  /** A flag's webhook: POST {flag, phase, service, version, enabledBy} as JSON to the URL in the
   * variable the plan names (scrubbed from everything shown: it often carries a token). On the
   * embedded world it goes to the simulated flag service ($CANARY_SIM_URL/flags/<name>). */
  private async runWebhook(e: RunCommandEffect, onLines: (lines: string[]) => void): Promise<CommandOutcome> {
    const env = { ...this.o.env, ...e.env };
    const flag = e.env.FLAG ?? e.name;
    const sim = this.o.mode === 'sim';
    const url = sim ? (this.o.simEnv?.CANARY_SIM_URL ? `${this.o.simEnv.CANARY_SIM_URL}/flags/${encodeURIComponent(flag)}` : undefined) : env[e.webhookEnv!];
    const tag = sim ? ' (simulated)' : '';
    if (!url) return sim ? { ok: true, skipped: true, exitCode: null, detail: 'not run: the simulated service is off (--sim-http off)' } : { ok: false, exitCode: null, detail: `$${e.webhookEnv} is not set: it must hold the flag service's URL` };
    const secrets = [...secretsOf(env, this.o.secretEnv), ...(sim ? [] : [url])];
    const shown = sim ? url : `$${e.webhookEnv}`;
    const body = JSON.stringify({ flag, phase: e.env.PHASE, service: e.env.SERVICE, version: e.env.RC_VERSION, enabledBy: e.env.ENABLED_BY });
    let u: URL;
    try {
      u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`not http(s): ${u.protocol}`);
    } catch (err) {
      return { ok: false, exitCode: null, detail: scrub(`$${e.webhookEnv} is not a URL (${err instanceof Error ? err.message : String(err)})`, secrets) };
    }
    onLines([`POST ${shown} ${body}`]);
    try {
      const res = await fetch(u, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(e.timeoutMs) });
      const text = (await res.text()).slice(0, 2_000);
      const lines = text.split('\n').filter((l) => l.trim()).slice(0, 10).map((l) => scrub(l, secrets));
      onLines([`HTTP ${res.status} ${res.statusText}`.trim(), ...lines]);
      return { ok: res.ok, exitCode: null, detail: `HTTP ${res.status}${tag}` };
    } catch (err) {
      const why = err instanceof Error ? (err.name === 'TimeoutError' ? `no answer after ${e.timeoutMs} ms` : causeOf(err)) : String(err);
      return { ok: false, exitCode: null, detail: scrub(`POST failed: ${why}${tag}`, secrets) };
    }
  }

  /** A query check passes only when every series it returned holds: a value that is a number and
   * not 0 (a comparison like `up == 1` returns only the series that hold; a bare `up` returns 0 for
   * a target that is down), measured within the plan's staleAfter, and no Prometheus warnings
   * (unless the plan says `warnings: show`). Any series alone is not a pass. */
  private async runQuery(e: RunCommandEffect, onLines: (lines: string[]) => void): Promise<CommandOutcome> {
    if (!this.o.query) return { ok: false, exitCode: null, detail: 'no Prometheus to ask (start with --prometheus), or tick it by hand' };
    const rules = this.o.queryRules ?? { staleMs: 180_000, warnings: 'inconclusive' as const };
    let answer: QueryAnswer;
    try {
      answer = await this.o.query(e.query!, e.timeoutMs);
    } catch (err) {
      return { ok: false, exitCode: null, detail: err instanceof Error ? err.message : String(err) };
    }
    const now = (this.o.now ?? Date.now)();
    const bad: string[] = [];
    const lines = answer.series.slice(0, 20).map((x) => {
      const age = now - x.at;
      const why = !Number.isFinite(x.value) ? `not a number (${x.value})` : x.value === 0 ? 'value 0: the condition does not hold' : !Number.isFinite(x.at) ? 'no time' : age > rules.staleMs ? `${formatDuration(age)} old (staleAfter ${formatDuration(rules.staleMs)})` : null;
      if (why) bad.push(`${x.labels} ${why}`);
      return `${x.labels} ${x.value}${why ? `  ✗ ${why}` : ''}`;
    });
    for (const x of answer.series.slice(20)) {
      const age = now - x.at;
      if (!Number.isFinite(x.value) || x.value === 0 || !(age <= rules.staleMs)) bad.push(`${x.labels} ${x.value}`);
    }
    onLines([...(answer.series.length ? lines : ['(no series)']), ...answer.warnings.map((w) => `warning: ${w}`)]);
    if (!answer.series.length) return { ok: false, exitCode: 1, detail: 'the query returned no series' };
    if (bad.length) return { ok: false, exitCode: 1, detail: `${bad.length} of ${answer.series.length} series do not pass: ${bad[0]}${bad.length > 1 ? ', ...' : ''}` };
    if (answer.warnings.length && rules.warnings === 'inconclusive')
      return { ok: false, exitCode: 1, detail: `Prometheus warned: ${answer.warnings[0]} (inconclusive: sources.prometheus.warnings)` };
    return { ok: true, exitCode: 0, detail: `${answer.series.length} series, each holds` };
  }

  stop(runId: number): void {
    this.running.get(runId)?.abort();
  }

  close(): void {
    for (const c of this.running.values()) c.abort();
  }
}

/** What a failed fetch says: the socket's code (ECONNREFUSED), else the cause's words. */
function causeOf(err: Error): string {
  const c = err.cause as { code?: string; message?: string; errors?: { code?: string }[] } | undefined;
  return c?.code ?? c?.errors?.find((e) => e.code)?.code ?? c?.message ?? err.message;
}

/** The plan's rollback hook as runHook takes it: the real command, or on the embedded world its
 * `sim` stand-in (null when there is none). */
export function rollbackHookOf(plan: Plan, cwd: string, mode: RunMode, simEnv: Record<string, string> = {}) {
  if (!plan.rollback.hook) return null;
  const c = normalCommand(plan.rollback.hook, parseDuration(plan.runbook.timeout) ?? 120_000);
  const command = mode === 'sim' ? c.sim : c.run;
  if (command === undefined) return null;
  return {
    command,
    cwd,
    timeoutMs: c.timeoutMs,
    secretEnv: plan.runbook.secretEnv,
    env: { PREVIOUS_STABLE_VERSION: plan.metadata.previousVersion, RC_VERSION: plan.metadata.version, NAMESPACE: plan.target.namespace, RELEASE: plan.metadata.release, ...(mode === 'sim' ? simEnv : {}) },
  };
}

/** A traffic actuator whose rollback also runs the plan's rollback hook once traffic is at 0%,
 * as KubeTraffic does: used on the embedded world, so the emergency-rollback step runs there too. */
export class HookedTraffic implements TrafficActuator {
  readonly name: string;
  constructor(
    private readonly inner: TrafficActuator,
    private readonly hook: NonNullable<ReturnType<typeof rollbackHookOf>>,
  ) {
    this.name = inner.name;
  }
  setWeight(weight: number, regions: string[]): Promise<ActuationResult> {
    return this.inner.setWeight(weight, regions);
  }
  async rollback(reason: string, regions: string[]): Promise<ActuationResult> {
    const r = await this.inner.rollback(reason, regions);
    if (r.weight !== 0) return r;
    const h = await runHook(this.hook, reason);
    return { ...r, detail: `${r.detail}; ${h}` };
  }
}
