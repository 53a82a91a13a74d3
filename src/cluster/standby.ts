// A console standing by for an in-cluster rollout (`canary start --rollout <name>`): the same
// Driver as `canary drive` runs underneath and takes the Lease when it expires; until then the
// console shows the rollout as the cluster has it - the newest state in the journal the driving
// process keeps in the cluster (the CanaryRollout's status names its head), and who holds the
// Lease - without any connection to the driver and without any war-room token. It is read-only
// for what needs the Lease (the engine refuses those commands while another process drives); a
// rollback needs no Lease and is carried out at once with the plan's traffic actuator, as
// `canary rollback` does (the driver then reads 0% as drift and holds).
//
// StandbyStore is what the console renders: this view while another process drives, the Driver's
// own runtime once this process drives (and the view again if it ever loses the Lease).
import type { Plan } from '../plan/schema.js';
import { initialState, reduce } from '../engine/reduce.js';
import type { EngineEvent, HistoryEntry, RolloutState } from '../engine/types.js';
import type { Store } from '../runtime/store.js';
import type { TrafficActuator } from '../runtime/ports.js';
import type { KubeCluster } from '../kube/client.js';
import { loadClusterJournal } from './journal.js';
import { RolloutResource } from './resource.js';
import { stateFromSnapshot } from './snapshot.js';

export interface ClusterViewOptions {
  home: KubeCluster;
  namespace: string;
  rollout: string;
  plan: Plan;
  key?: string;
  /** Who holds the Lease as this process read it last (null: not read yet). */
  holder: () => string | null;
  /** A Lease problem to say beside "READ-ONLY" (e.g. the Lease cannot be read). */
  leaseProblem?: () => string | null;
  /** The plan's traffic actuator, for a rollback from this console (null: not connected yet). */
  traffic: () => TrafficActuator | null;
  now: () => number;
  /** How often the CanaryRollout is read (default 1000 ms). */
  everyMs?: number;
  /** True while this process drives: nothing to read then (the runtime is the state). */
  paused?: () => boolean;
}

const MAX_HISTORY = 200;

/** The rollout as the cluster has it, read-only; refreshed every second. */
export class ClusterView implements Store {
  private state: RolloutState;
  private base: RolloutState;
  private readonly listeners = new Set<() => void>();
  private head: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Lines from the journal's snapshots and this console's own (refusals, a rollback), oldest first. */
  private history: HistoryEntry[] = [];
  /** Why the cluster's state could not be read, or does not verify (null: it was read and verifies). */
  get problem(): string | null {
    return this.readProblem ?? this.journalProblem;
  }
  private readProblem: string | null = null;
  private journalProblem: string | null = null;
  /** The journal's head the view shows (seq), null before the first read. */
  seq: number | null = null;

  constructor(private readonly o: ClusterViewOptions) {
    this.base = initialState(o.plan, o.now());
    this.state = this.compose();
  }

  getState(): RolloutState {
    return this.state;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A person's command: the engine decides as everywhere. While another process drives it refuses
   * everything but a rollback, which is carried out here at once (it needs no Lease). */
  dispatch(event: EngineEvent): void {
    const r = reduce(this.o.plan, this.state, event);
    this.take(r.state, this.state);
    for (const e of r.effects) {
      if (e.type !== 'rollback') continue;
      const traffic = this.o.traffic();
      if (!traffic) {
        this.note({ at: this.o.now(), kind: 'refused', text: 'rollback not carried out: the clusters are not connected yet; run canary rollback --reason "..." from a shell' });
        continue;
      }
      traffic.rollback(e.reason, e.regions).then(
        (res) => this.dispatchResult({ type: 'effect.result', at: this.o.now(), effectId: e.id, ok: res.weight === 0, detail: res.detail, weight: res.weight, ...(res.clusters ? { clusters: res.clusters } : {}) }),
        (err: unknown) => this.dispatchResult({ type: 'effect.result', at: this.o.now(), effectId: e.id, ok: false, detail: err instanceof Error ? err.message : String(err) }),
      );
    }
    this.emit();
  }

  private dispatchResult(event: EngineEvent): void {
    if (this.stopped) return;
    const r = reduce(this.o.plan, this.state, event);
    this.take(r.state, this.state);
    this.emit();
  }

  /** Keeps the history lines a local reduction added (refusals, this console's rollback). */
  private take(next: RolloutState, prev: RolloutState): void {
    const added = next.history.length >= prev.history.length ? next.history.slice(prev.history.length) : next.history.filter((h) => !prev.history.includes(h));
    for (const h of added) this.note(h);
    this.base = { ...next, history: this.base.history, driver: this.base.driver };
    this.state = this.compose();
  }

  private note(h: HistoryEntry): void {
    this.history.push(h);
    this.history.sort((a, b) => a.at - b.at);
    if (this.history.length > MAX_HISTORY) this.history.splice(0, this.history.length - MAX_HISTORY);
    this.state = this.compose();
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      if (!this.o.paused?.()) await this.refresh();
      if (this.stopped) return;
      this.timer = setTimeout(() => void loop(), this.o.everyMs ?? 1000);
      this.timer.unref();
    };
    void loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** One read of the CanaryRollout, and of the journal when its head moved. Public for tests. */
  async refresh(): Promise<void> {
    try {
      const cr = await new RolloutResource(this.o.home, this.o.namespace, this.o.rollout).get();
      const h = cr.status?.journal ?? null;
      const key = h ? `${h.seq}:${h.hash}` : 'none';
      if (key !== this.head) {
        const loaded = await loadClusterJournal(this.o.home, this.o.namespace, this.o.rollout, {
          ...(this.o.key ? { key: this.o.key } : {}),
          expected: { head: h ? { seq: h.seq, hash: h.hash } : null, firstSegment: h?.firstSegment ?? 0 },
        });
        const last = loaded.entries.at(-1);
        const snap = last ? loaded.stateAt(last.seq) : null;
        const p = loaded.problems[0];
        this.journalProblem = p ? `the journal in the cluster does not verify: ${p.kind} in ${p.segment}` : null;
        if (snap && last) {
          const next = stateFromSnapshot(this.o.plan, snap);
          for (const line of next.history) if (!this.history.some((x) => x.at === line.at && x.text === line.text)) this.note(line);
          this.base = next;
          this.seq = last.seq;
        }
        this.head = key;
      }
      this.base = { ...this.base, driver: { holder: this.o.holder() ?? cr.status?.driver?.holder ?? null, self: false, since: this.base.driver?.since ?? this.o.now(), message: null } };
      this.readProblem = null;
    } catch (err) {
      this.readProblem = `cannot read CanaryRollout ${this.o.namespace}/${this.o.rollout}: ${err instanceof Error ? err.message : String(err)}`;
    }
    this.state = this.compose();
    this.emit();
  }

  private compose(): RolloutState {
    const why = this.problem ?? this.o.leaseProblem?.() ?? null;
    const driver = this.base.driver ? { ...this.base.driver, self: false, message: why } : { holder: this.o.holder(), self: false, since: this.base.now, message: why };
    return { ...this.base, now: Math.max(this.base.now, this.o.now()), history: this.history.slice(), driver };
  }

  private emit(): void {
    for (const l of [...this.listeners]) l();
  }
}

/** What the console renders: the view while another process drives, this process's runtime while it drives. */
export class StandbyStore implements Store {
  private readonly listeners = new Set<() => void>();
  private current: Store;
  private unsub: () => void;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly view: ClusterView,
    private readonly driving: () => Store | null,
    checkEveryMs = 100,
  ) {
    this.current = driving() ?? view;
    this.unsub = this.current.subscribe(() => this.emit());
    // The Driver starts and stops driving by itself (the Lease): follow it.
    this.timer = setInterval(() => this.follow(), checkEveryMs);
    this.timer.unref();
  }

  /** True while this process drives. */
  get isDriving(): boolean {
    return this.current !== this.view;
  }

  private follow(): void {
    const next = this.driving() ?? this.view;
    if (next === this.current) return;
    this.unsub();
    this.current = next;
    this.unsub = next.subscribe(() => this.emit());
    this.emit();
  }

  getState(): RolloutState {
    return this.current.getState();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispatch(event: EngineEvent): void {
    this.follow();
    this.current.dispatch(event);
  }

  close(): void {
    clearInterval(this.timer);
    this.unsub();
  }

  private emit(): void {
    for (const l of [...this.listeners]) l();
  }
}
