// The wiring of a rollout, per mode: the embedded simulated world, Prometheus for the SLIs, or the
// clusters of a Kubernetes plan. Each builder returns `{ runtime, close, ... }`; the console, the
// headless runner and the wall all run exactly the same machinery. What is shared by every mode
// (the plan, the journal and its lock, resume, the people, notifications, load tests) is here;
// what differs is in ./simulated.ts, ./prometheus.ts and ./kubernetes.ts, loaded only when used.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { planCacheDir, type CanaryEnv } from '../env.js';
import { UsageError, UserError, messageOf } from '../commands/errors.js';
import type { Plan } from '../plan/schema.js';
import { whoIs } from '../engine/roster.js';
import type { Actor, RolloutState } from '../engine/types.js';
import { Runtime } from '../runtime/runtime.js';
import type { Clock } from '../runtime/ports.js';
import { JournalWriter, resumeSync, type JournalLoss, type ResumeResult } from '../journal/journal.js';
export type { JournalLoss } from '../journal/journal.js';
import { DEMO_START } from '../sim/clock.js';
import { SimCrew } from '../sim/crew.js';
import { SCENARIOS } from '../sim/scenarios.js';
import { SimWorld, type SimWorldOptions } from '../sim/world.js';
import { isKubernetesPlan } from '../plan/provider.js';
import { ChannelNotifier } from '../actuators/notifier.js';
import { DirectoryCommsWriter } from '../actuators/comms-files.js';
import { DirectoryReportProducer, reportsDirFor } from '../actuators/report-files.js';
import { ReportLedger } from '../reports/ledger.js';
import { parseStartAt, startAtInstant } from '../engine/calendar.js';
import { PlanLoadRunner } from '../actuators/loadtest.js';
import { simServiceAddress, startSimServiceOrExplain } from '../sim/serve-cli.js';
import { startSimService } from '../sim/serve.js';
import { wireRunbook, type RunbookWiring } from '../runbook.js';
import { LocalInspection } from '../runtime/inspection.js';
import type { PodInspector } from '../runtime/ports.js';
import type { ClusterTarget } from '../kube/config.js';
import type { PrometheusClient } from '../sources/prometheus.js';
import { packageRoot } from '../paths.js';
import { defaultJournalPath, lockJournal, type LockResult } from './journal-lock.js';
import { journalPlanMismatch, planAndText } from './plan.js';
import type { Common, ModeParts, SimPacing, WorldValues } from './parts.js';

export { realClock, simClock, simSource, type Common, type ModeParts, type SimPacing, type WorldValues } from './parts.js';


export interface WiringDefaults {
  /** Simulated seconds per real second when --speed is not given. */
  speed: number;
  /** How often the store notifies its subscribers (0: on every change). */
  notifyEveryMs: number;
  /** Serve the simulated service for the plan's load tests by default (the console does). */
  serve?: boolean;
  /** Makes the simulated world (tests: a world made slow on purpose). */
  world?: (opts: SimWorldOptions) => SimWorld;
}

export interface Wiring {
  runtime: Runtime;
  /** What this terminal looks at (enter on a pod): describe + logs -f, this terminal's only. */
  inspection: LocalInspection;
  /** The pod inspector (the war-room server inspects for each joined terminal with it). */
  inspector: PodInspector | null;
  close(): Promise<void>;
  mode: 'simulated' | 'prometheus' | 'kubernetes';
  plan: Plan;
  planPath: string;
  planText: string;
  /** What the rollout reads: on the embedded world, the world's own time (never ahead of it). */
  clock: Clock;
  /** The embedded world only: the pace its clock keeps (speed keys) and the speed it really keeps. */
  pace: SimPacing | null;
  actor: Actor;
  crew: SimCrew | null;
  journal: string | null;
  /** The journal was lost while canary ran (replaced, truncated, removed, a write failed): what
   * happened and what to do, for the exit message; null when it was not (or there is none). */
  journalLoss(): JournalLoss | null;
  /** Notification channels that are off, and why (their environment variable is not set). */
  notifyOff: string[];
  notifyOn: string[];
  commsDir: string;
  /** Where the plan's stakeholder reports are written (beside the journal); null: none. */
  reportsDir: string | null;
}

/** The SLI source the options ask for. */
function sliSourceOf(values: WorldValues): 'sim' | 'prometheus' {
  return values['sli-source'] ?? (values.prometheus ? 'prometheus' : 'sim');
}

/** The plan, the mode, and the wiring for that mode. */
export async function buildRuntime(values: WorldValues, env: CanaryEnv, defaults: WiringDefaults): Promise<Wiring> {
  // SLIs from the simulated world: every SLI must say what the world simulates for it (slis[].simulate).
  const { plan, planPath, planText } = await planAndText(values, { simulated: sliSourceOf(values) === 'sim', cacheDir: planCacheDir(env) });
  const kubePlan = isKubernetesPlan(plan);
  const prometheus = sliSourceOf(values) === 'prometheus';
  if (!kubePlan && (values.kubeconfig || values.context))
    throw new UsageError(`--kubeconfig/--context: the plan's traffic.provider is "sim"; name a Kubernetes provider (istio, gateway-api, smi, nginx, argo-rollouts, replicas) to use clusters`);
  // Prometheus evaluates queries at its own "now", and clusters live in real time.
  if ((prometheus || kubePlan) && values.speed !== undefined && values.speed !== 1)
    throw new UsageError(`--speed ${values.speed} cannot be used with ${prometheus ? 'Prometheus' : 'Kubernetes'}: it answers for real time only; leave --speed out`);
  if (kubePlan) return buildKubernetes(values, env, defaults, { plan, planPath, planText }, prometheus);
  if (prometheus) return buildPrometheus(values, env, defaults, { plan, planPath, planText });
  return buildSimulated(values, env, defaults, { plan, planPath, planText });
}

type Loaded = { plan: Plan; planPath: string; planText: string };

/** The embedded simulated world: its clock, SLIs, pods and traffic. */
export async function buildSimulated(values: WorldValues, env: CanaryEnv, defaults: WiringDefaults, loaded: Loaded): Promise<Wiring> {
  const { simulatedParts } = await import('./simulated.js');
  return assemble('simulated', values, env, defaults, loaded, false, simulatedParts);
}

/** SLIs from Prometheus, in real time; pods and traffic stay simulated. */
export async function buildPrometheus(values: WorldValues, env: CanaryEnv, defaults: WiringDefaults, loaded: Loaded): Promise<Wiring> {
  const { prometheusParts } = await import('./prometheus.js');
  return assemble('prometheus', values, env, defaults, loaded, true, prometheusParts);
}

/** Pods and traffic from the clusters of the plan's regions (SLIs simulated or from Prometheus). */
export async function buildKubernetes(values: WorldValues, env: CanaryEnv, defaults: WiringDefaults, loaded: Loaded, prometheus: boolean): Promise<Wiring> {
  const { kubernetesParts } = await import('./kubernetes.js');
  return assemble('kubernetes', values, env, defaults, loaded, true, (c) => kubernetesParts(c, prometheus));
}

async function assemble(
  mode: Wiring['mode'],
  values: WorldValues,
  env: CanaryEnv,
  defaults: WiringDefaults,
  { plan, planPath, planText }: Loaded,
  live: boolean,
  makeParts: (c: Common) => Promise<ModeParts>,
): Promise<Wiring> {
  const key = env.journalKey;
  // The journal is on by default, under $XDG_STATE_HOME/canary (~/.local/state/canary): one per
  // plan for a live rollout (started again, it resumes), a fresh one per run on the simulated world.
  let journalPath = values['no-journal'] ? undefined : (values.journal ?? defaultJournalPath(plan, live, env.stateHome));
  // One writer per journal: a second canary on this machine (a read-only terminal next to the
  // driver) must not fork the hash chain. The default one gets its own file; an explicit one is an error.
  let unlockJournal: (() => void) | null = null;
  if (journalPath) {
    const lock = takeJournalLock(journalPath);
    if (lock.ok) unlockJournal = lock.release;
    else if (values.journal)
      throw new UserError(`journal ${journalPath} is in use by ${lock.holder} (${lock.detail}); its lock file is ${lock.lock}. Stop that canary first, or give another --journal, or --no-journal`);
    else {
      const mine = journalPath.replace(/\.jsonl$/, `-pid${process.pid}-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
      process.stderr.write(`canary: journal ${journalPath} is in use by ${lock.holder} (${lock.detail}); this terminal journals to ${mine}\n`);
      journalPath = mine;
      const again = takeJournalLock(journalPath);
      unlockJournal = again.ok ? again.release : null;
    }
  }
  // A journal that exists is a rollout to pick up where it was; otherwise a new one starts.
  let resumed: ResumeResult | null = null;
  // Stakeholder reports are rendered from the journal's facts: a resumed rollout's are replayed into it.
  const ledger = plan.reports.length && journalPath ? new ReportLedger() : null;
  if (journalPath && existsSync(journalPath)) {
    const wrongPlan = journalPlanMismatch(journalPath, { plan, planPath, planText }, values.plan);
    if (wrongPlan) throw new UserError(`${wrongPlan} (or --journal <other file>, or --no-journal to run without one)`);
    try {
      resumed = resumeSync(plan, journalPath, { planText, ...(key ? { key } : {}), ...(ledger ? { observe: (st: RolloutState) => ledger.observe(st) } : {}) });
    } catch (err) {
      const m = messageOf(err);
      throw new UserError(`journal ${m.startsWith(journalPath) ? m : `${journalPath}: ${m}`} (--journal <other file> or --no-journal to run without it)`);
    }
  }
  const realTime = mode !== 'simulated';
  const speed = realTime ? 1 : (values.speed ?? defaults.speed);
  const start = realTime ? Date.now() : (resumed?.state.now ?? startAtOf(values['start-at'], plan) ?? DEMO_START);
  if (values['start-at'] !== undefined && realTime)
    throw new UsageError(`--start-at sets the embedded world's clock; with ${mode === 'prometheus' ? '--prometheus' : "the plan's clusters"} the clock is real time`, 'canary start');
  if (values['start-at'] !== undefined && resumed)
    throw new UsageError(`--start-at ${values['start-at']}: the journal ${journalPath} resumes at ${new Date(resumed.state.now).toISOString()}; a new start time needs a new journal (--journal <new file>)`, 'canary start');
  const base = SCENARIOS[values.scenario ?? 'latency-regression'];
  const regressAt = values['regress-at'];
  // The world's actuators answer after a short real delay; at very high speeds keep it tiny so a
  // weight change does not take simulated hours to be confirmed.
  const actuationDelayMs = speed > 3600 ? 1 : 20;
  const worldOptions: SimWorldOptions = { plan, scenario: regressAt === undefined ? base : { ...base, atWeight: regressAt }, seed: values.seed ?? 1, start, podsPerRegion: values['pods-per-region'] ?? 6, actuationDelayMs };
  const world = defaults.world ? defaults.world(worldOptions) : new SimWorld(worldOptions);
  let actor: Actor;
  if (values.as) {
    const p = plan.roster.people.find((x) => x.id === values.as);
    if (!p) throw new UsageError(`--as ${values.as}: no such person in the plan's roster; expected one of: ${plan.roster.people.map((x) => x.id).join(', ')}`);
    actor = { id: p.id, name: p.name, roles: p.roles };
  } else {
    const p = whoIs(plan, 'sre-primary', start).person;
    actor = p ? { id: p.id, name: p.name, roles: p.roles } : { id: 'operator', name: 'operator' };
  }
  const common: Common = { values, env, plan, planPath, planText, resumed, world, speed, realTime, start };
  const parts = await makeParts(common);
  const { clock } = parts;
  let traffic = parts.traffic;
  // In real time the simulated people answer in seconds, not sim-minutes.
  const crew = values['no-crew'] || parts.noCrew ? null : new SimCrew(plan, parts.crewRealTime ? { approveAfterMs: 5_000, goAfterMs: 30_000, advanceAfterMs: 5_000, tickEveryMs: 500 } : {});
  const closers: (() => Promise<void> | void)[] = [() => parts.close()];
  /** The plan's load-test address was taken: the simulated service serves elsewhere (serve-cli.ts). */
  let serviceMoved: { planned: string; actual: string } | undefined;
  let runbook: RunbookWiring | null = null;
  let runtimeRef: Runtime | null = null;
  try {
    if (values.export) {
      const m = /^([^:]+|\[[^\]]+\]):(\d+)$/.exec(values.export)!;
      const { startExporter } = await import('../sim/exporter.js');
      try {
        const exporter = await startExporter({ world, clock, host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]), advance: false });
        closers.push(() => exporter.close());
      } catch (err) {
        throw new UserError(`--export ${values.export}: ${messageOf(err)}`);
      }
    }
    // The simulated service on loopback, where the plan's load tests aim (see src/sim/serve.ts).
    // `canary start` on the simulated world serves it by default; `run --headless` and Kubernetes
    // plans only when --sim-http asks.
    let serviceAt: ReturnType<typeof simServiceAddress> = null;
    try {
      serviceAt = (defaults.serve && parts.serveByDefault) || values['sim-http'] !== undefined ? simServiceAddress(plan, values['sim-http']) : null;
    } catch (err) {
      throw new UserError(messageOf(err));
    }
    const started = serviceAt
      ? await startSimServiceOrExplain(
          world,
          serviceAt,
          (m) => {
            throw new UserError(m);
          },
          plan,
        )
      : null;
    if (started) {
      closers.push(() => started.service.close());
      if (started.moved) serviceMoved = started.moved;
    }
    const service = started?.service ?? null;
    // The runbook's commands, pod descriptions and logs. On the embedded world the stand-ins run
    // against the simulated service (when it is not served for load tests, on an ephemeral port of
    // its own), and a rollback runs the rollback hook's stand-in too.
    const kube = parts.kubeTargets !== undefined;
    const runbookService = !kube && !service && values['sim-http'] !== 'off' ? await startSimService({ world, host: '127.0.0.1', port: 0 }).catch(() => null) : null;
    if (runbookService) closers.push(() => runbookService.close());
    runbook = wireRunbook({
      plan,
      planPath,
      env: env.vars,
      mode: kube ? 'real' : 'sim',
      traffic,
      simUrl: (service ?? runbookService)?.url ?? null,
      pod: (k) => runtimeRef?.getState().pods.get(k),
      now: () => clock.now(),
      kubeTargets: parts.kubeTargets ?? null,
      prometheus: parts.prometheus ?? null,
    });
    traffic = runbook.traffic;
  } catch (err) {
    for (const c of closers) await c();
    unlockJournal?.();
    throw err;
  }
  // Load-test results: one JSON file per run, beside the journal unless --load-results says where.
  const resultsDir = values['load-results'] ? resolve(values['load-results']) : join(journalPath ? dirname(journalPath) : dirname(defaultJournalPath(plan, live, env.stateHome)), 'loadtests');
  const loadRunner = new PlanLoadRunner({ plan, resultsDir, scriptDirs: [process.cwd(), dirname(planPath), packageRoot()], env: env.vars, ...(serviceMoved ? { serviceMoved } : {}) });
  let writer: JournalWriter | null = resumed?.writer ?? null;
  if (journalPath && !resumed) {
    try {
      mkdirSync(dirname(journalPath), { recursive: true });
      writer = await JournalWriter.open(journalPath, { plan, planText, start: clock.now(), ...(key ? { key } : {}) });
    } catch (err) {
      for (const c of closers) await c();
      throw new UserError(`journal ${journalPath}: ${messageOf(err)} (--journal <other file> or --no-journal to run without it)`);
    }
  }
  if (resumed) {
    // The simulated world starts where the rollout was: the confirmed weight in the phase's regions.
    const phase = plan.phases[resumed.state.phaseIndex];
    if (resumed.state.appliedWeight && phase) await world.setWeight(resumed.state.appliedWeight, phase.regions === 'all' ? plan.target.regions : phase.regions);
    const t = resumed.torn;
    process.stderr.write(
      `canary: resumed ${journalPath} at seq ${resumed.lastSeq}: ${resumed.state.status} at ${resumed.state.desiredWeight}%` +
        (t ? `; a torn last line (${t.bytes} bytes, line ${t.line}) was set aside in ${t.movedTo}` : '') +
        (resumed.inDoubt.length ? `; redoing ${resumed.inDoubt.length} traffic change(s) never confirmed` : '') +
        '\n',
    );
  }
  // Notifications go to the plan's channels (URLs and tokens from the environment), in the
  // background; communications are written where --comms-dir says.
  const notifier = new ChannelNotifier({ plan, env: env.vars });
  // Stakeholder reports: written beside the journal.
  const reportsDir = ledger && journalPath ? reportsDirFor(journalPath) : null;
  const commsDir = resolve(values['comms-dir'] ?? 'canary-comms');
  const runtime = new Runtime({
    plan,
    clock,
    sources: parts.sources,
    traffic,
    ...(parts.actuatorTimeoutMs !== undefined ? { actuatorTimeoutMs: parts.actuatorTimeoutMs } : {}),
    notifier,
    comms: new DirectoryCommsWriter(commsDir),
    loadRunner,
    ...(ledger && reportsDir ? { reports: new DirectoryReportProducer(plan, reportsDir, ledger) } : {}),
    ...(runbook ? { commands: runbook.commands } : {}),
    ...(resumed ? { initial: resumed.state } : {}),
    ...(writer ? { journal: writer } : {}),
    // In real time the panes refresh once a second (a key's own feedback is immediate): an idle
    // console then costs well under 1% of a core. Fast-forwarded, ten times a second.
    notifyEveryMs: speed <= 1 && defaults.notifyEveryMs > 0 ? 1000 : defaults.notifyEveryMs,
    // On the simulated world its source carries time (ticks after each batch); in real time the
    // real clock ticks.
    tickMs: realTime ? 250 : 0,
    observers: [...(ledger ? [(state: RolloutState) => void ledger.observe(state)] : []), ...(crew ? [(state: RolloutState) => crew.decide(state)] : [])],
  });
  runtimeRef = runtime;
  await parts.afterStart?.(runtime, (e) => runtime.dispatch(e));
  // A load test that was running when canary stopped never finished: say so, so it is not shown
  // as running forever (and another can start). Its figures so far are in the journal.
  const orphan = resumed?.state.loadTests.running;
  if (orphan) runtime.dispatch({ type: 'loadtest.result', at: clock.now(), runId: orphan.runId, name: orphan.name, outcome: 'failed', detail: 'canary stopped while this load test ran; it did not finish', summary: null });
  // Effects decided but never confirmed before the last stop: carry them out again (setting a
  // weight and rolling back are both safe to repeat), with their results journaled as usual.
  for (const e of resumed?.inDoubt ?? []) {
    const p = e.type === 'set-weight' ? traffic.setWeight(e.weight, e.regions) : e.type === 'rollback' ? traffic.rollback(e.reason, e.regions) : null;
    p?.then(
      (r) => runtime.dispatch({ type: 'effect.result', at: clock.now(), effectId: e.id, ok: true, detail: `redone after resume: ${r.detail}`, weight: r.weight }),
      (err: unknown) => runtime.dispatch({ type: 'effect.result', at: clock.now(), effectId: e.id, ok: false, detail: `redone after resume: ${String(err)}` }),
    );
  }
  // What this terminal looks at (enter on a pod): its own, never the journaled state.
  const inspector = runbook?.inspector ?? null;
  const inspection = new LocalInspection({ plan, inspector, pod: (k) => runtime.getState().pods.get(k) });
  return {
    runtime,
    inspection,
    inspector,
    mode,
    plan,
    planPath,
    planText,
    clock,
    pace: parts.pace ?? null,
    actor,
    crew,
    journal: journalPath ?? null,
    journalLoss: () => writer?.lost ?? null,
    notifyOff: notifier.off,
    notifyOn: notifier.channels,
    commsDir,
    reportsDir,
    async close() {
      inspection.close();
      await runtime.stop();
      // Deliveries still queued get a moment to go out, then the rest are dropped.
      await Promise.race([notifier.idle(), new Promise((r) => setTimeout(r, 2_000).unref())]);
      notifier.close();
      writer?.close();
      unlockJournal?.();
      for (const c of closers) await c();
    },
  };
}

/** The journal's lock, or a message that says which file could not be locked and why (a directory
 * without write permission...). A stale lock that was taken over is said on stderr. */
function takeJournalLock(journalPath: string): LockResult {
  let lock: LockResult;
  try {
    lock = lockJournal(journalPath);
  } catch (err) {
    throw new UserError(`journal ${journalPath}: cannot take its lock ${journalPath}.lock: ${messageOf(err)} (--journal <other file> or --no-journal to run without it)`);
  }
  if (lock.ok && lock.tookOver) process.stderr.write(`canary: took over the lock ${journalPath}.lock, which was stale: ${lock.tookOver}\n`);
  return lock;
}

/** What the commands print at exit when the journal was lost. */
export function journalLossText(l: JournalLoss): string {
  return `canary: JOURNAL LOST: ${l.path}: ${l.reason}. Nothing after seq ${l.lastSeq} is recorded${l.saved ? `; the journal as canary wrote it is saved in ${l.saved}` : ''}.\ncanary: to do: ${l.todo}\n`;
}

/** `--start-at` (checked for its shape when parsed) as an instant, in the plan's time zone. */
function startAtOf(text: string | undefined, plan: Plan): number | undefined {
  if (text === undefined) return undefined;
  const p = parseStartAt(text);
  if (typeof p === 'string') throw new UsageError(`--start-at ${p}`, 'canary start');
  return startAtInstant(plan, p);
}
