// `canary drive`: the rollout's driver, headless, for a pod (or a systemd unit). Every replica
// runs this; the one holding the Lease drives, the others stand by. The driver that takes the
// Lease resumes the rollout from the cluster - the CanaryRollout's status (its journal head) and
// the journal segments - not from any local file: same phase, weight, bake clock, approvals, open
// checkpoint, incidents and escalation clocks. Traffic changes decided and never confirmed are
// carried out again (idempotent); weights that match the resumed state are not drift, because the
// resumed state is the one that set them. The engine is the same pure reducer as everywhere: a
// resumed state is a state; takeover is this adapter's business.
//
// Writes, in order, for every decision: the journal entry (a segment patch with a resourceVersion
// precondition), then - before any traffic change - nothing moves until that entry is in the
// cluster; the status follows (coalesced, resourceVersion-preconditioned, re-read on 409). Each
// carries the holder and the Lease epoch: a stale driver's late write is refused. Losing the Lease
// stops the runtime at once; an API server unreachable past the renew deadline stops every traffic
// change (the lease guard) and says so, and the driver goes on where it was when it renews again
// in the same epoch.
//
// Logs are JSON lines on stdout: {"time","level","msg",...}.
import { hostname } from 'node:os';
import { parseDocument } from 'yaml';
import type { Plan } from '../plan/schema.js';
import { formatPlanError, loadPlanText } from '../plan/loader.js';
import { initialState } from '../engine/reduce.js';
import type { Effect, EngineEvent, HistoryEntry, RolloutState } from '../engine/types.js';
import { Runtime } from '../runtime/runtime.js';
import type { ActuationResult, Clock, Source, TrafficActuator } from '../runtime/ports.js';
import { KubeError, type KubeCluster } from '../kube/client.js';
import { connectKubernetes, type KubeWiring } from '../kubernetes.js';
import type { LeaseKeeper } from '../actuators/lease.js';
import { PrometheusClient, type PrometheusClientOptions } from '../sources/prometheus.js';
import { PrometheusSource } from '../sources/prometheus-source.js';
import { ChannelNotifier } from '../actuators/notifier.js';
import { PlanCommandRunner, queryLines, queryRulesOf } from '../actuators/runbook.js';
import { ClusterJournal, loadClusterJournal, type LoadedJournal } from './journal.js';
import { ClusterStateError, RolloutResource, type CanaryRollout, type CanaryRolloutStatus } from './resource.js';
import { stateFromSnapshot } from './snapshot.js';
import { rolloutStatus, statusKey } from './status.js';
import { DriverMetrics, startHealthServer, type HealthServer, type HealthView } from './health.js';
import { sha256Hex } from '../journal/journal.js';

/** What a driver that just took the Lease says about itself. */
export interface DrivingInfo {
  state: RolloutState;
  ms: number;
  runtime: Runtime;
  epoch: number;
  /** The driver the status named before (null: none, or this one). */
  from: string | null;
  /** "took over from X at epoch N", "resumed at epoch N" or null (a new rollout): shown beside "driving". */
  note: string | null;
}

export interface DriverOptions {
  /** The cluster holding the CanaryRollout (and its journal). */
  home: KubeCluster;
  namespace: string;
  rollout: string;
  /** Where the plan's clusters are found (the same kubeconfig rules as everywhere). */
  kube: { kubeconfig?: string; contexts?: string[]; inClusterRoot?: string };
  /** Where the SLIs come from: fixed, or from the plan (its sources.prometheus) once it is read. Null: none given. */
  prometheus: PrometheusClientOptions | ((plan: Plan) => PrometheusClientOptions | null);
  /** The environment as read (CanaryEnv.vars): kubeconfig discovery, the plan's notification URLs
   * and tokens, and what the rollback hook and the runbook's commands start from. */
  env: Readonly<Record<string, string | undefined>>;
  /** Who this driver is in the Lease and the status (the command passes $POD_NAME; default host:pid). */
  identity?: string;
  /** Lease timings: client-go's 15 s / 10 s / 2 s unless given. */
  lease?: { durationSeconds?: number; renewDeadlineMs?: number; retryMs?: number };
  /** /healthz, /readyz, /metrics (null: none). */
  health?: { host: string; port: number } | null;
  /** Log lines (JSON) go here (default stdout). */
  out?: NodeJS.WritableStream;
  key?: string;
  /** Real ms between Prometheus rounds (default 1000). */
  sourcePeriodMs?: number;
  /** Status writes that only move a clock (bake, countdowns) happen at most this often (default 10 s). */
  statusRefreshMs?: number;
  /** Journal segment size and bound (tests). */
  segmentBytes?: number;
  maxSegments?: number;
  /** Drift poll period (default 10 s). */
  driftEveryMs?: number;
  /** The war room (`canary join --rollout` reaches it through the API server's service proxy).
   * Only the driving replica serves it; a standby's port is closed. */
  warroom?: { listen: string; tokens: string; cert?: string; key?: string; insecure?: boolean } | null;
  /** Called once this process drives (after the resume), for tests, the bench and a console
   * standing by (`canary start --rollout`): its runtime, and whom it took over from. */
  onDriving?: (info: DrivingInfo) => void;
}

/** The plan a CanaryRollout names: inline, or in a ConfigMap; spec.target/spec.traffic override the plan's. */
export async function planOfRollout(home: KubeCluster, cr: CanaryRollout): Promise<{ plan: Plan; planText: string }> {
  const ns = cr.metadata.namespace ?? 'default';
  const spec = cr.spec ?? {};
  let text: string | undefined = spec.plan?.inline;
  let where = `CanaryRollout ${ns}/${cr.metadata.name} spec.plan.inline`;
  if (text === undefined && spec.plan?.configMapRef) {
    const ref = spec.plan.configMapRef;
    const key = ref.key ?? 'plan.yaml';
    where = `ConfigMap ${ns}/${ref.name} key ${key}`;
    let cm: { data?: Record<string, string> };
    try {
      cm = await home.request('GET', `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps/${encodeURIComponent(ref.name)}`, { verb: 'get', resource: 'configmaps', timeoutMs: 5_000 });
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) throw new ClusterStateError(`${where}: the ConfigMap the CanaryRollout names (spec.plan.configMapRef) does not exist: create it (see deploy/overlays/maestro-conductor-rc)`, 'plan');
      throw err;
    }
    text = cm.data?.[key];
    if (text === undefined) throw new ClusterStateError(`${where}: no key "${key}" in that ConfigMap (it has: ${Object.keys(cm.data ?? {}).join(', ') || 'nothing'})`, 'plan');
  }
  if (text === undefined) throw new ClusterStateError(`CanaryRollout ${ns}/${cr.metadata.name}: spec.plan needs inline (the plan's YAML) or configMapRef {name, key}`, 'plan');
  if (spec.target || spec.traffic) {
    const doc = parseDocument(text);
    if (spec.target) doc.set('target', { ...((doc.toJS() as { target?: object }).target ?? {}), ...spec.target });
    if (spec.traffic) doc.set('traffic', spec.traffic);
    text = doc.toString();
  }
  const r = loadPlanText(text, where);
  if (!r.ok) throw new ClusterStateError(`the plan of CanaryRollout ${ns}/${cr.metadata.name} does not load:\n${r.errors.map((e) => `  ${formatPlanError(e)}`).join('\n')}`, 'plan');
  return { plan: r.plan, planText: text };
}

/** Traffic changes wait until the decision behind them is journaled in the cluster and the lease is ours. */
class GuardedTraffic implements TrafficActuator {
  readonly name: string;
  constructor(
    private readonly inner: TrafficActuator,
    private readonly journal: () => ClusterJournal | null,
    private readonly lease: LeaseKeeper,
    private readonly stopped: () => boolean,
    private readonly log: (level: string, msg: string, extra?: Record<string, unknown>) => void,
  ) {
    this.name = inner.name;
  }

  async setWeight(weight: number, regions: string[]): Promise<ActuationResult> {
    await this.journal()?.durable();
    // The lease can be unsure for a while (API server unreachable): wait, never act without it.
    let said = false;
    while (!this.lease.canMutate()) {
      if (this.stopped()) throw new Error(`not changing traffic to ${weight}%: this driver stopped driving`);
      if (!said) this.log('warn', `traffic change to ${weight}% waits: ${this.lease.whyNot() ?? 'lease not held'}`);
      said = true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return this.inner.setWeight(weight, regions);
  }

  async rollback(reason: string, regions: string[]): Promise<ActuationResult> {
    // Taking traffic off the canary is always allowed: wait for the journal only briefly.
    const j = this.journal();
    if (j) await Promise.race([j.durable().catch(() => undefined), new Promise((r) => setTimeout(r, 2_000).unref())]);
    return this.inner.rollback(reason, regions);
  }
}

interface Active {
  plan: Plan;
  runtime: Runtime;
  journal: ClusterJournal;
  resource: RolloutResource;
  epoch: number;
  since: number;
  source: PrometheusSource;
  client: PrometheusClient;
  statusTimer: NodeJS.Timeout;
  unwatch: () => void;
  lastKey: string;
  lastWriteAt: number;
  writing: Promise<void> | null;
  dirty: boolean;
  seenHistory: HistoryEntry | null;
  seenEffects: number;
  /** Shared with its actuators: set when this process stops driving. */
  flags: { stopped: boolean };
  room: { url: string; close(): Promise<void> } | null;
  /** Whom this driver took over from, said beside "driving" (null: a new rollout). */
  note: string | null;
  readonly stopped: boolean;
}

export class Driver {
  readonly identity: string;
  private kube: KubeWiring | null = null;
  private plan: { plan: Plan; planText: string } | null = null;
  private active: Active | null = null;
  private starting: Promise<void> | null = null;
  private health: HealthServer | null = null;
  private metrics: DriverMetrics;
  private readonly view: HealthView;
  private closed = false;
  private lastDecisionAt: number | null = null;
  private fatal: Error | null = null;
  private readonly clock: Clock = { now: () => Date.now(), speed: 1 };
  private readonly out: NodeJS.WritableStream;
  private pausedSaid = false;
  private resolveDone: ((err: Error | null) => void) | null = null;
  /** Resolves when the driver stops for good (null: a clean stop; an error: why it gave up). */
  readonly done: Promise<Error | null>;

  constructor(private readonly o: DriverOptions) {
    this.identity = o.identity ?? `${hostname()}:${process.pid}`;
    this.out = o.out ?? process.stdout;
    this.done = new Promise((r) => (this.resolveDone = r));
    this.view = {
      notReady: () => this.notReady(),
      state: () => this.active?.runtime.getState() ?? null,
      leaseHeld: () => this.kube?.lease?.canMutate() ?? false,
      lastDecisionAt: () => this.lastDecisionAt,
      now: () => Date.now(),
    };
    this.metrics = new DriverMetrics(this.view);
  }

  log(level: string, msg: string, extra: Record<string, unknown> = {}): void {
    this.out.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, rollout: `${this.o.namespace}/${this.o.rollout}`, driver: this.identity, ...extra })}\n`);
  }

  get healthUrl(): string | null {
    return this.health?.url ?? null;
  }

  get lease(): LeaseKeeper | null {
    return this.kube?.lease ?? null;
  }

  /** The war room's URL while this process drives and serves one. */
  get warroomUrl(): string | null {
    return this.active?.room?.url ?? null;
  }

  /** The runtime while this process drives. */
  get runtime(): Runtime | null {
    return this.active?.runtime ?? null;
  }

  /** The rollout's plan (from the CanaryRollout), once start() read it. */
  get rolloutPlan(): { plan: Plan; planText: string } | null {
    return this.plan;
  }

  /** The plan's traffic actuator (a standby console rolls back with it: that needs no Lease). */
  get traffic(): TrafficActuator | null {
    return this.kube?.traffic ?? null;
  }

  notReady(): string | null {
    if (this.fatal) return this.fatal.message;
    const lease = this.kube?.lease;
    if (!lease || !lease.known) return 'who drives is not known yet (the lease was not read)';
    const s = this.active?.runtime.getState();
    if (s) {
      const down = Object.entries(s.sources).filter(([, h]) => !h.ok);
      if (down.length) return `source ${down.map(([n, h]) => `${n}: ${h.message ?? 'failing'}`).join('; ')}`;
    }
    return null;
  }

  /** Reads the CanaryRollout and its plan, connects the plan's clusters, and takes part in the election. */
  async start(): Promise<void> {
    if (this.o.health !== null) {
      const h = this.o.health ?? { host: '0.0.0.0', port: 8080 };
      this.health = await startHealthServer({ host: h.host, port: h.port, view: this.view, metrics: this.metrics });
      this.log('info', `serving /healthz, /readyz, /metrics at ${this.health.url}`);
    }
    const resource = new RolloutResource(this.o.home, this.o.namespace, this.o.rollout);
    const cr = await resource.get();
    this.plan = await planOfRollout(this.o.home, cr);
    this.kube = await connectKubernetes(this.plan.plan, {
      planPath: '.',
      now: () => this.clock.now(),
      identity: this.identity,
      env: this.o.env,
      ...(this.o.kube.kubeconfig ? { kubeconfig: this.o.kube.kubeconfig } : {}),
      ...(this.o.kube.contexts ? { contexts: this.o.kube.contexts } : {}),
      ...(this.o.kube.inClusterRoot ? { inClusterRoot: this.o.kube.inClusterRoot } : {}),
      ...(this.o.lease ? { leaseTimings: this.o.lease } : {}),
      ...(this.o.driftEveryMs ? { driftEveryMs: this.o.driftEveryMs } : {}),
    });
    this.log('info', `standing by: plan ${this.plan.plan.metadata.name}, lease ${this.kube.lease ? 'canary lease' : 'none'} in ${this.plan.plan.target.namespace}`);
    this.kube.lease!.start((e) => this.onLease(e));
  }

  private onLease(e: EngineEvent): void {
    if (e.type !== 'driver.status' || this.closed) return;
    const lease = this.kube!.lease!;
    const a = this.active;
    // The takeover note stays beside "driving" (a renewal's own message, e.g. a failed try, first).
    if (a) a.runtime.dispatch(e.self && !e.message && a.note ? { ...e, message: a.note } : e);
    if (e.self) {
      if (this.pausedSaid) {
        this.pausedSaid = false;
        this.log('info', 'lease renewed: driving again');
      }
      if (!a && !this.starting && !this.fatal) {
        const t0 = performance.now();
        this.starting = this.takeover(t0)
          .catch((err: unknown) => {
            // What a person must fix stops the driver; anything else (the API server or
            // Prometheus briefly away) is tried again at the next lease renewal.
            if (err instanceof ClusterStateError || (err instanceof KubeError && (err.status === 401 || err.status === 403))) return this.giveUp(err);
            this.log('warn', `could not resume yet (retrying at the next lease renewal): ${err instanceof Error ? err.message : String(err)}`);
          })
          .finally(() => (this.starting = null));
      } else if (a && lease.epoch !== a.epoch) {
        // Someone else held it in between: what we have is stale. Resume from the cluster again.
        this.log('warn', `the lease changed hands while this driver could not renew (epoch ${a.epoch} -> ${lease.epoch}): resuming from the cluster`);
        void this.stepDown('lease changed hands').then(() => this.onLease(e));
      }
      return;
    }
    if (e.holder === this.identity) {
      if (a && !this.pausedSaid) {
        this.pausedSaid = true;
        this.log('error', `stopped changing traffic: ${e.message ?? 'the lease was not renewed within the renew deadline'}; resumes when the lease is renewed`);
      }
      return;
    }
    if (a) {
      this.log('warn', `lost the lease to ${e.holder ?? 'nobody'}: stopped driving, standing by`);
      void this.stepDown(`lease held by ${e.holder}`);
    }
  }

  private async giveUp(err: unknown): Promise<void> {
    const e = err instanceof Error ? err : new Error(String(err));
    this.fatal = e;
    this.log('error', e.message, { kind: e instanceof ClusterStateError ? e.kind : 'error' });
    // Nothing moved: hand the lease back so that a person's fix (or another replica) can go on.
    await this.kube?.lease?.stop();
    this.resolveDone?.(e);
  }

  /** Won the lease: resume the rollout from the cluster and drive. */
  private async takeover(t0: number): Promise<void> {
    const lease = this.kube!.lease!;
    const epoch = lease.epoch ?? 0;
    const { plan, planText } = this.plan!;
    const resource = new RolloutResource(this.o.home, this.o.namespace, this.o.rollout);
    const cr = await resource.get();
    // The plan may have changed since start (a new ConfigMap): read it again.
    const fresh = await planOfRollout(this.o.home, cr);
    if (sha256Hex(fresh.planText) !== sha256Hex(planText)) this.plan = fresh;
    const head = cr.status?.journal ?? null;
    const before = cr.status?.driver?.holder ?? null;
    const loaded = await loadClusterJournal(this.o.home, this.o.namespace, this.o.rollout, {
      ...(this.o.key ? { key: this.o.key } : {}),
      expected: { head: head ? { seq: head.seq, hash: head.hash } : null, firstSegment: head?.firstSegment ?? 0 },
    });
    const stamp = () => ({ holder: this.identity, epoch });
    const jopts = {
      cluster: this.o.home,
      namespace: this.o.namespace,
      rollout: this.o.rollout,
      stamp,
      ...(this.o.key ? { key: this.o.key } : {}),
      ...(this.o.segmentBytes ? { segmentBytes: this.o.segmentBytes } : {}),
      ...(this.o.maxSegments ? { maxSegments: this.o.maxSegments } : {}),
      onWrite: (ms: number) => this.metrics.stateWrite.observe(ms / 1000),
      onError: (err: Error) => {
        this.log(err instanceof ClusterStateError ? 'error' : 'warn', `journal write: ${err.message}`);
        if (err instanceof ClusterStateError) void this.stepDown(err.message);
      },
    };
    let journal: ClusterJournal;
    let state: RolloutState;
    if (loaded.problems.length) {
      const p = loaded.problems[0]!;
      throw new ClusterStateError(
        `the journal of CanaryRollout ${this.o.namespace}/${this.o.rollout} does not verify (${loaded.problems.length} problem(s)); refusing to drive from it. First: ${p.kind} in ${p.segment}: ${p.message}. Run \`canary audit verify --rollout ${this.o.rollout} -n ${this.o.namespace}\``,
        'tampered',
      );
    }
    if (!loaded.entries.length) {
      if (head) throw new ClusterStateError(`CanaryRollout ${this.o.namespace}/${this.o.rollout}: the status names journal head seq ${head.seq}, but there is no journal: its segments were deleted`, 'tampered');
      state = initialState(this.plan!.plan, this.clock.now());
      journal = await ClusterJournal.create({ ...jopts, plan: this.plan!.plan, planText: this.plan!.planText, state });
      this.log('info', `new rollout: journal started (segment 0)`);
    } else {
      const header = loaded.header;
      const planHash = sha256Hex(this.plan!.planText);
      if (header && header.event.type === 'journal.open' && header.event.planHash !== planHash)
        throw new ClusterStateError(`the plan changed since this rollout's journal was opened (plan hash ${planHash.slice(0, 12)}... is not ${header.event.planHash.slice(0, 12)}...): resuming with another plan would not give the same rollout`, 'plan');
      checkStatusAgainstJournal(this.plan!.plan, cr, loaded);
      const last = loaded.entries.at(-1)!;
      const snap = loaded.stateAt(last.seq);
      if (!snap) throw new ClusterStateError(`the journal of CanaryRollout ${this.o.namespace}/${this.o.rollout}: the state at seq ${last.seq} cannot be rebuilt (its last whole snapshot is not in the kept segments)`, 'tampered');
      state = stateFromSnapshot(this.plan!.plan, snap);
      journal = ClusterJournal.attach(jopts, loaded);
      this.log('info', `resumed from the cluster at journal seq ${last.seq}: ${state.status} ${state.desiredWeight}%`, { seq: last.seq, status: state.status, weight: state.desiredWeight, inDoubt: last.inDoubt.length });
    }
    const planNow = this.plan!.plan;
    const promOpts = typeof this.o.prometheus === 'function' ? this.o.prometheus(planNow) : this.o.prometheus;
    if (!promOpts) throw new ClusterStateError(`no Prometheus to read the SLIs from: give --prometheus <url> or set sources.prometheus.url in the plan`, 'plan');
    const client = new PrometheusClient(promOpts);
    const source = new PrometheusSource({ plan: planNow, client, clock: this.clock, periodMs: this.o.sourcePeriodMs ?? 1000 });
    const kube = this.kube!;
    const flags = { stopped: false };
    const traffic = new GuardedTraffic(kube.traffic, () => journal, lease, () => flags.stopped || this.closed, (l, m) => this.log(l, m));
    const notifier = new ChannelNotifier({ plan: planNow, env: this.o.env });
    // The runbook's commands (deploy steps, validation after 100%, rollback verification,
    // checklist checks, flag hooks), the real ones, as `canary start` runs them for a Kubernetes
    // plan; from the driver's working directory, as the rollback hook.
    const commands = new PlanCommandRunner({ mode: 'real', cwd: '.', env: this.o.env, secretEnv: planNow.runbook.secretEnv, query: queryLines(client), queryRules: queryRulesOf(planNow) });
    const sources: Source[] = [source, kube.pods, kube.watch];
    const runtime = new Runtime({
      plan: planNow,
      clock: this.clock,
      sources,
      traffic,
      notifier,
      commands,
      initial: state,
      journal: {
        append: (event, st, effects) => {
          // A journal that was refused (a driver of a later epoch wrote) stops this driver. The
          // event's effects cannot act either: every traffic change waits for the journal first.
          if (journal.failed) {
            void this.stepDown(journal.failed.message);
            return null;
          }
          const r = journal.append(event, st, effects);
          if (r) {
            this.lastDecisionAt = Date.now();
            this.metrics.decisions.inc();
          }
          return r;
        },
      },
      actuatorTimeoutMs: 240_000,
      tickMs: 250,
    });
    // SLI history from Prometheus (range queries), before the live ticks: the new driver judges
    // what happened while nobody watched.
    try {
      for (const ev of await source.backfill(60)) runtime.dispatch(ev);
    } catch (err) {
      this.log('warn', `could not read SLI history from Prometheus: ${err instanceof Error ? err.message : String(err)}`);
    }
    const from = before && before !== this.identity ? before : null;
    const note = from ? `took over from ${from} at epoch ${epoch}` : loaded.entries.length ? `resumed at epoch ${epoch}` : null;
    runtime.dispatch({ type: 'driver.status', at: this.clock.now(), holder: this.identity, self: true, ...(note ? { message: note } : {}) });
    const a: Active = {
      plan: planNow,
      runtime,
      journal,
      resource,
      epoch,
      since: this.clock.now(),
      source,
      client,
      statusTimer: setInterval(() => this.writeStatusSoon(), 1000),
      unwatch: () => undefined,
      lastKey: '',
      lastWriteAt: 0,
      writing: null,
      dirty: false,
      seenHistory: runtime.getState().history.at(-1) ?? null,
      seenEffects: 0,
      flags,
      room: null,
      note,
      get stopped() {
        return flags.stopped;
      },
    };
    a.statusTimer.unref();
    a.unwatch = runtime.watch(() => {
      this.logProgress(a);
      this.writeStatusSoon();
    });
    this.active = a;
    this.metrics.takeovers.inc();
    // Effects decided and never confirmed: carry them out again (a weight, a rollback: idempotent).
    const last = loaded.entries.at(-1);
    for (const e of last?.inDoubt ?? []) this.redo(a, e);
    runtime.start();
    if (this.o.warroom) {
      const w = this.o.warroom;
      const { openWarRoom } = await import('../warroom/commands.js');
      try {
        a.room = await openWarRoom({ plan: planNow, planText: this.plan!.planText, runtime, clock: this.clock, listen: w.listen, tokens: w.tokens, cert: w.cert, key: w.key, insecure: w.insecure });
        this.log('info', `war room at ${a.room.url} (canary join --rollout ${this.o.rollout} reaches it through the API server)`);
      } catch (err) {
        this.log('error', `war room not served: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    await this.writeStatus(a);
    const ms = performance.now() - t0;
    this.log('info', `driving (lease epoch ${epoch}) ${Math.round(ms)} ms after winning the lease${from ? `; took over from ${from}` : ''}`, { epoch, ms: Math.round(ms), ...(from ? { from } : {}) });
    this.o.onDriving?.({ state: runtime.getState(), ms, runtime, epoch, from, note });
  }

  private redo(a: Active, e: Effect): void {
    const p = e.type === 'set-weight' ? this.trafficOf(a).setWeight(e.weight, e.regions) : e.type === 'rollback' ? this.trafficOf(a).rollback(e.reason, e.regions) : null;
    if (!p) return;
    this.log('info', `redoing effect #${e.id} (${e.type}${e.type === 'set-weight' ? ` ${e.weight}%` : ''}): decided by the previous driver, never confirmed`);
    p.then(
      (r) => a.runtime.dispatch({ type: 'effect.result', at: this.clock.now(), effectId: e.id, ok: e.type === 'set-weight' ? r.weight === e.weight : r.weight === 0, detail: `redone after takeover: ${r.detail}`, weight: r.weight, ...(r.clusters ? { clusters: r.clusters } : {}) }),
      (err: unknown) => a.runtime.dispatch({ type: 'effect.result', at: this.clock.now(), effectId: e.id, ok: false, detail: `redone after takeover: ${err instanceof Error ? err.message : String(err)}` }),
    );
  }

  private trafficOf(a: Active): TrafficActuator {
    return new GuardedTraffic(this.kube!.traffic, () => a.journal, this.kube!.lease!, () => a.stopped || this.closed, (l, m) => this.log(l, m));
  }

  /** New history lines and effects, as JSON log lines. */
  private logProgress(a: Active): void {
    const s = a.runtime.getState();
    const h = s.history;
    let from = a.seenHistory ? h.lastIndexOf(a.seenHistory) + 1 : 0;
    if (a.seenHistory && from === 0 && h[0] !== a.seenHistory) from = 0;
    for (const e of h.slice(from)) this.log(e.kind === 'rollback' ? 'error' : 'info', e.text, { kind: e.kind, at: new Date(e.at).toISOString() });
    a.seenHistory = h.at(-1) ?? a.seenHistory;
    const effects = a.runtime.effects;
    for (const eff of effects.slice(a.seenEffects)) {
      if (eff.type === 'set-weight') this.log('info', `effect #${eff.id}: set weight ${eff.weight}% in ${eff.regions.join(', ')}`, { effect: eff.type });
      else if (eff.type === 'rollback') this.log('error', `effect #${eff.id}: ROLLBACK from ${eff.fromWeight}%: ${eff.reason}`, { effect: eff.type, reason: eff.reason });
      else if (eff.type === 'notify') this.log('info', `effect #${eff.id}: notify ${eff.severity}: ${eff.message}`, { effect: eff.type });
    }
    a.seenEffects = effects.length;
  }

  private writeStatusSoon(): void {
    const a = this.active;
    if (!a) return;
    if (a.writing) {
      a.dirty = true;
      return;
    }
    const key = statusKey(this.statusOf(a));
    const due = key !== a.lastKey || Date.now() - a.lastWriteAt >= (this.o.statusRefreshMs ?? 10_000);
    if (!due) return;
    void this.writeStatus(a);
  }

  private statusOf(a: Active): CanaryRolloutStatus {
    const head = a.journal.head;
    const segs = a.journal.segments;
    return rolloutStatus(a.plan, a.runtime.getState(), { driver: { holder: this.identity, epoch: a.epoch, since: a.since }, journal: { ...head, segments: segs.count, firstSegment: segs.first }, now: this.clock.now() });
  }

  /** One status write. The journal first: the head the status names must be in the cluster, and
   * the status must be the state at that head (a later decision not yet written waits for the next write). */
  private writeStatus(a: Active): Promise<void> {
    const run = (async () => {
      try {
        if (!this.kube!.lease!.canMutate()) return; // stopped mutating: no status either
        await a.journal.durable();
        if (a.journal.head.seq !== a.journal.durableHead) {
          a.dirty = true; // more was decided meanwhile: write once that is in the cluster
          return;
        }
        const st = this.statusOf(a);
        const conflictsBefore = a.resource.stats.conflicts;
        await a.resource.writeStatus(st);
        this.metrics.statusConflicts.inc(a.resource.stats.conflicts - conflictsBefore);
        a.lastKey = statusKey(st);
        a.lastWriteAt = Date.now();
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        if (e instanceof ClusterStateError && e.kind === 'stale') {
          this.log('error', `${e.message}: stopped driving`);
          void this.stepDown('stale');
          return;
        }
        if (this.active === a) this.log('warn', `status write failed (retrying): ${e.message}`);
      }
    })();
    a.writing = run.finally(() => {
      a.writing = null;
      if (a.dirty && this.active === a) {
        a.dirty = false;
        setTimeout(() => this.writeStatusSoon(), 20).unref();
      }
    });
    return a.writing;
  }

  /** Stops driving: the runtime stops, entries not yet written are dropped (a stale driver's would be refused). */
  private async stepDown(why: string): Promise<void> {
    const a = this.active;
    if (!a) return;
    this.active = null;
    a.flags.stopped = true;
    clearInterval(a.statusTimer);
    a.unwatch();
    await a.room?.close().catch(() => undefined);
    await a.runtime.stop();
    const dropped = a.journal.stop();
    a.client.close();
    this.log('warn', `stepped down (${why})${dropped ? `; ${dropped} journal entr${dropped === 1 ? 'y' : 'ies'} not written` : ''}`);
  }

  /** A clean exit: stop driving, write the last status, hand the lease back. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.starting?.catch(() => undefined);
    const a = this.active;
    if (a) {
      clearInterval(a.statusTimer);
      a.unwatch();
      a.flags.stopped = true;
      await a.room?.close().catch(() => undefined);
      await a.runtime.stop();
      await Promise.race([a.journal.durable().catch(() => undefined), new Promise((r) => setTimeout(r, 5_000).unref())]);
      await a.writing?.catch(() => undefined);
      await this.writeStatus(a).catch(() => undefined);
      a.journal.stop();
      a.client.close();
      this.active = null;
    }
    await this.kube?.lease?.stop();
    this.kube?.close();
    await this.health?.close();
    this.log('info', 'stopped; lease released');
    this.resolveDone?.(null);
  }
}

/**
 * A status edited by hand to a phase or weight the journal never reached is refused: the status
 * is written by the driver only, and what it names must be the journal's own state at its head.
 */
export function checkStatusAgainstJournal(plan: Plan, cr: CanaryRollout, loaded: LoadedJournal): void {
  const st = cr.status;
  if (!st || !st.journal) return;
  const snap = loaded.stateAt(st.journal.seq);
  if (!snap) return; // not in the journal: reported as truncation by loadClusterJournal
  const phase = snap.phaseIndex >= 0 ? (plan.phases[snap.phaseIndex]?.id ?? null) : null;
  const diffs: string[] = [];
  if (st.phase !== undefined && st.phase !== phase) diffs.push(`phase ${JSON.stringify(st.phase)} (the journal: ${JSON.stringify(phase)})`);
  if (st.weight && st.weight.set !== snap.desiredWeight) diffs.push(`weight ${st.weight.set}% (the journal: ${snap.desiredWeight}%)`);
  const word = { pending: 'Pending', running: 'Running', paused: 'Paused', completed: 'Completed', 'rolled-back': 'RolledBack' }[snap.status];
  if (st.state !== undefined && st.state !== word) diffs.push(`state ${st.state} (the journal: ${word})`);
  if (diffs.length)
    throw new ClusterStateError(
      `CanaryRollout ${cr.metadata.namespace}/${cr.metadata.name}: its status says ${diffs.join(', ')} at journal seq ${st.journal.seq}, which the journal never reached: the status was edited by hand. Nothing was moved. Only the driver writes status; to move a rollout, send a command (canary join / canary rollback). Restore the status from the journal (delete .status.phase/.state/.weight edits) and restart the driver`,
      'tampered',
    );
}
