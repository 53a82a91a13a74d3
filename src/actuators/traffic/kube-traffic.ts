// Moves traffic in every cluster of the plan at once, through one provider, and says per cluster
// what happened. A change is done only when a read-back shows it: 409 (someone wrote in between)
// and a failed `test` op (422) are retried after a fresh read; a rollback is retried until every
// cluster reads 0% or its deadline passes, and it is idempotent (a cluster already at 0 is left
// alone). Mutations stop when `guard` says this terminal may not drive (the Lease is not ours).
import { runHook, type RollbackHook } from '../hook.js';
import { KubeError, CONTENT } from '../../kube/client.js';
import type { ClusterTarget } from '../../kube/config.js';
import type { ActuationResult, ClusterResult, TrafficActuator } from '../../runtime/ports.js';
import type { ProviderRead, TrafficProvider } from './providers.js';

export interface KubeTrafficOptions {
  targets: ClusterTarget[];
  provider: TrafficProvider;
  /** Null when this terminal may mutate; otherwise why not (e.g. "the lease is held by ana"). */
  guard?: () => string | null;
  /** Attempts per cluster for a weight change (default: until the deadline). */
  attempts?: number;
  /** A weight change keeps trying (409/422 after a fresh read, a controller still taking the step)
   * until it reads back or this much time passed (default 60 s). */
  setWeightDeadlineMs?: number;
  /** A rollback keeps trying each cluster until it reads 0 or this much time passed. */
  rollbackDeadlineMs?: number;
  retryDelayMs?: number;
  /** After traffic is at 0: scale the canary Deployment to 0 replicas. */
  scaleCanaryToZero?: { namespace: string; deployment: string };
  /** After traffic is at 0: the plan's rollback hook, e.g. emergency-rollback.sh. */
  /** `base`: canary's environment (CanaryEnv.vars) the hook's starts from; `env` is added. */
  hook?: RollbackHook;
}

export class KubeTraffic implements TrafficActuator {
  readonly name: string;
  /** The last read of each cluster: a rollback patches from it at once (no read first); if the
   * object changed since, the patch's preconditions fail (409/422) and a fresh read follows. */
  private readonly lastRead = new Map<string, ProviderRead>();
  constructor(private readonly o: KubeTrafficOptions) {
    this.name = `${o.provider.kind} (${o.provider.object})`;
  }

  /** Traffic changes started and ended, and those under way: a reading taken across one is not
   * news (it may predate the write and would look like drift, or like a rollback by someone else). */
  private changes = 0;
  private changing = 0;

  private async changing_<T>(f: () => Promise<T>): Promise<T> {
    this.changes++;
    this.changing++;
    try {
      return await f();
    } finally {
      this.changing--;
      this.changes++;
    }
  }

  setWeight(weight: number, regions: string[]): Promise<ActuationResult> {
    const bad = this.o.provider.invalid(weight);
    if (bad) return Promise.reject(new Error(bad));
    try {
      this.checkGuard();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.changing_(() => this.setWeightNow(weight, regions));
  }

  private async setWeightNow(weight: number, regions: string[]): Promise<ActuationResult> {
    // The phase's regions get the weight; the others keep the canary at 0.
    const deadline = performance.now() + (this.o.setWeightDeadlineMs ?? 60_000);
    const results = await Promise.all(
      this.o.targets.map((t) => this.converge(t, t.regions.some((r) => regions.includes(r)) ? weight : 0, this.o.attempts ?? Infinity, deadline)),
    );
    return summarize(results, weight);
  }

  rollback(reason: string, _regions: string[]): Promise<ActuationResult> {
    return this.changing_(() => this.rollbackNow(reason));
  }

  private async rollbackNow(reason: string): Promise<ActuationResult> {
    // A rollback is never refused for want of the lease: taking traffic off the canary is always
    // safe, and a driver that sees 0% where it expected more says "drift" and holds.
    const deadline = performance.now() + (this.o.rollbackDeadlineMs ?? 60_000);
    const results = await Promise.all(this.o.targets.map((t) => this.converge(t, 0, this.o.attempts ?? Infinity, deadline)));
    const extra: string[] = [];
    // Every cluster already at 0 (a repeated rollback, or one done from another terminal): the
    // scale-down and the hook have run already; don't notify the stakeholders twice.
    const changed = results.some((r) => r.detail !== 'already 0%');
    if (results.every((r) => r.ok) && changed) {
      if (this.o.scaleCanaryToZero) extra.push(...(await Promise.all(this.o.targets.map((t) => this.scaleToZero(t)))));
      if (this.o.hook) extra.push(await runHook(this.o.hook, reason));
    }
    const res = summarize(results, 0);
    return { ...res, detail: [res.detail, ...extra].join('; ') };
  }

  /** Reads every cluster (drift checks); null when a traffic change ran meanwhile (then the
   * reading says nothing reliable about who changed what). */
  async readAll(): Promise<ClusterResult[] | null> {
    if (this.changing) return null;
    const before = this.changes;
    const results = await Promise.all(
      this.o.targets.map(async (t) => {
        try {
          const r = await this.read(t.cluster);
          return { cluster: t.cluster.name, ok: r.weight !== null, weight: r.weight, attempts: 1, detail: r.detail };
        } catch (err) {
          return { cluster: t.cluster.name, ok: false, weight: null, attempts: 1, detail: msg(err) };
        }
      }),
    );
    return this.changing || this.changes !== before ? null : results;
  }

  private async read(c: ClusterTarget['cluster']): Promise<ProviderRead> {
    const r = await this.o.provider.read(c);
    this.lastRead.set(c.name, r);
    return r;
  }

  private checkGuard(): void {
    const why = this.o.guard?.();
    if (why) throw new Error(`not changing traffic: ${why}`);
  }

  private async converge(t: ClusterTarget, weight: number, attempts: number, deadline: number): Promise<ClusterResult> {
    const c = t.cluster;
    let last = '';
    let lastWeight: number | null = null;
    let tries = 0;
    for (let i = 1; i <= attempts; i++) {
      tries = i;
      try {
        // Rolling back: straight from the last read when it shows traffic on the canary.
        const cached = i === 1 && weight === 0 ? this.lastRead.get(c.name) : undefined;
        const seen = cached && cached.weight !== null && cached.weight !== 0 ? cached : await this.read(c);
        lastWeight = seen.weight;
        if (seen.weight === weight) return { cluster: c.name, ok: true, weight, attempts: i, detail: i === 1 ? `already ${weight}%` : `${weight}% read back` };
        if (weight !== 0) this.checkGuard();
        this.lastRead.delete(c.name);
        await this.o.provider.write(c, weight, seen);
        const after = await this.read(c);
        lastWeight = after.weight;
        if (after.weight === weight) return { cluster: c.name, ok: true, weight, attempts: i, detail: `${weight}% read back` };
        last = `wrote ${weight}%, read back ${after.weight ?? '?'}% (${after.detail})`;
      } catch (err) {
        last = msg(err);
        // Not worth retrying: the object or the permission is missing, or the request is invalid.
        if (err instanceof KubeError && [401, 403, 404, 415].includes(err.status)) break;
        if (!(err instanceof KubeError) && /not changing traffic|takes whole|is not one of them|cannot go down|is missing|no (stable|canary) destination|no http route|no rule/.test(last)) break;
      }
      if (performance.now() > deadline) break;
      if (i < attempts) await sleep(Math.min(2_000, (this.o.retryDelayMs ?? 100) * 2 ** Math.min(i - 1, 5)));
    }
    return { cluster: c.name, ok: false, weight: lastWeight, attempts: tries, detail: last };
  }

  private async scaleToZero(t: ClusterTarget): Promise<string> {
    const s = this.o.scaleCanaryToZero!;
    try {
      await t.cluster.request('PATCH', `/apis/apps/v1/namespaces/${encodeURIComponent(s.namespace)}/deployments/${encodeURIComponent(s.deployment)}/scale`, {
        verb: 'patch',
        resource: 'deployments.apps/scale',
        body: { spec: { replicas: 0 } },
        contentType: CONTENT.merge,
      });
      return `${t.cluster.name}: ${s.deployment} scaled to 0`;
    } catch (err) {
      return `${t.cluster.name}: scaling ${s.deployment} to 0 failed: ${msg(err)}`;
    }
  }
}

function summarize(results: ClusterResult[], weight: number): ActuationResult {
  const failed = results.filter((r) => !r.ok);
  // The weight reported: the one asked for when every cluster confirmed it; otherwise what a
  // failed cluster reads (never the asked-for weight: the change is not done), -1 if unknown.
  const w = failed.length === 0 ? weight : (failed.find((r) => r.weight !== null && r.weight !== weight)?.weight ?? -1);
  const detail = results.map((r) => `${r.cluster} ${r.ok ? `${r.weight}% ✓` : `✗ ${r.detail}`}${r.attempts > 1 ? ` (${r.attempts} tries)` : ''}`).join(', ');
  return { weight: w, detail, clusters: results };
}

function msg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Reads every cluster's weight every `everyMs` and reports changes (`traffic.observed`), so the
 * engine notices drift: GitOps self-heal, another person, a provider's controller. */
export class TrafficWatch {
  readonly name = 'traffic-watch';
  private timer: NodeJS.Timeout | null = null;
  private last = new Map<string, string>();
  private running = false;

  constructor(
    private readonly traffic: KubeTraffic,
    private readonly targets: ClusterTarget[],
    private readonly now: () => number,
    private readonly everyMs = 10_000,
  ) {}

  start(emit: (e: import('../../engine/types.js').EngineEvent) => void): void {
    const round = async () => {
      if (this.running) return;
      this.running = true;
      try {
        const results = await this.traffic.readAll();
        if (!results) return; // a change ran across this round: the next one tells
        results.forEach((r, i) => {
          const key = `${r.weight}|${r.ok ? '' : r.detail}`;
          if (this.last.get(r.cluster) === key) return;
          this.last.set(r.cluster, key);
          emit({ type: 'traffic.observed', at: this.now(), cluster: r.cluster, regions: this.targets[i]!.regions, weight: r.ok ? r.weight : null, detail: r.detail });
        });
      } finally {
        this.running = false;
      }
    };
    void round();
    this.timer = setInterval(() => void round(), this.everyMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
