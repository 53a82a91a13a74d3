#!/usr/bin/env node
// canary: a terminal command center for progressive rollouts. Commands: start (the console; the
// default), run --headless, validate, schema, status, audit verify, report, replay, help.
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import React from 'react';
import { render } from 'ink';
import { App } from '../components/App.js';
import { formatPlanError, loadPlanFile } from './plan/loader.js';
import { runSchema, runValidate } from './plan/commands.js';
import type { Plan } from './plan/schema.js';
import { whoIs } from './engine/roster.js';
import type { Actor } from './engine/types.js';
import { Runtime } from './runtime/runtime.js';
import { runHeadless } from './headless.js';
import { JournalWriter, readJournal, replayJournal, replaySteps, resumeSync, sha256Hex, verifyJournal, type ResumeResult } from './journal/journal.js';
import { initialState } from './engine/reduce.js';
import { Replay, type ReplayFrame } from '../components/Replay.js';
import { report } from './journal/report.js';
import { statusText } from './status.js';
import { DEMO_START, SimClock } from './sim/clock.js';
import { SimCrew } from './sim/crew.js';
import { wireRunbook } from './runbook.js';
import { SCENARIOS, SCENARIO_NAMES, describeScenarios, isScenarioName, type Scenario, type ScenarioName } from './sim/scenarios.js';
import { SimSource } from './sim/sources.js';
import { SimWorld } from './sim/world.js';
import { startExporter } from './sim/exporter.js';
import { PrometheusClient, type PrometheusClientOptions } from './sources/prometheus.js';
import { clientOptionsFromPlan, PrometheusSource } from './sources/prometheus-source.js';
import type { Clock, Source, TrafficActuator } from './runtime/ports.js';
import { connectKubernetes, isKubernetesPlan, type KubeWiring } from './kubernetes.js';
import { ChannelNotifier } from './actuators/notifier.js';
import { DirectoryCommsWriter } from './actuators/comms-files.js';
import { PlanLoadRunner } from './actuators/loadtest.js';
import { simServiceAddress, startSimServiceOrExplain } from './sim/serve-cli.js';
import { startSimService } from './sim/serve.js';
// The war room (ws, its server and client) is imported by its commands only, so the console's
// first frame does not wait for it to load.
import type { OpenedRoom } from './warroom/commands.js';
import { loadPlanText } from './plan/loader.js';

/** The package root (holds package.json and config/), whether running from src/ or dist/src/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

export const DEFAULT_PLAN = join(packageRoot(), 'config', 'maestro-conductor-rc.yaml');

const HELP = `canary - a terminal command center for progressive rollouts

Usage:
  canary [start] [options]    the console, on the embedded simulated world
  canary run --headless [--json] [--until <phase|complete>] [options]
                              no screen: what happens as lines (or JSON lines) and an exit code
  canary validate <plan.yaml> check a plan; prints a summary, or file:line:col: problem
  canary schema               print the plan's JSON Schema (for editors)
  canary status --journal <file> [--json]   one-shot summary of a rollout from its journal
  canary audit verify <journal> [--expect-head seq:hash]   check the hash chain; print the head
  canary report <journal>     a Markdown retrospective of the rollout
  canary replay <journal>     the console as it was: ←/→ event, [/] hour, n next rollback
  canary rollback --reason "..." [--plan f] [--kubeconfig f] [--context c]
                              traffic to 0% in every cluster of the plan, now, from any shell
                              (0: every cluster read back 0%, 3: not confirmed, 1: config)
  canary serve [options]      the console, and the war room: its state published over WebSocket
  canary join <url>           the same console, live, as the person of CANARY_TOKEN
  canary tokens [--person id] [--viewers n]   war-room tokens (shown once; the file keeps hashes)
  canary wall [<url>]         the war-room display (charts, weight, phase, pods, on call), joined
                              to a serve, or on the embedded world without a URL
  canary help                 this text

Options for start:
  --plan <file>          rollout plan (default: config/maestro-conductor-rc.yaml)
  --scenario <name>      what the simulated canary does (default: latency-regression)
  --speed <n>            simulated seconds per real second (default: 3600, one hour a second)
  --seed <n>             seed of the simulated world (default: 1)
  --pods-per-region <n>  stable pods per region (default: 6)
  --as <person-id>       who you are in the plan's roster (default: the primary SRE on call)
  --no-crew              no simulated approvers: gates wait for people
  --regress-at <weight>  the scenario's fault starts at this canary weight (default: the scenario's)

SLIs from a real Prometheus (or Thanos, Mimir, VictoriaMetrics: anything with its HTTP API):
  --prometheus <url>     query the plan's PromQL there instead of the simulated world's numbers;
                         the clock is then real time. Pods and traffic stay simulated unless
                         the plan names a Kubernetes traffic provider (below).
  --sli-source <name>    sim (default) or prometheus (with the plan's sources.prometheus.url)
  --prometheus-header 'Name: value'   extra header, e.g. 'X-Scope-OrgID: tenant-1' (repeatable)
  --prometheus-ca <file> CA bundle for https
  CANARY_PROMETHEUS_TOKEN             bearer token (environment only: never on the command line)
  CANARY_PROMETHEUS_USER / _PASSWORD  basic auth (environment only)
  --journal <file>       keep every decision in this journal (append-only, hash-chained, fsynced
                         before effects); if it exists, pick the rollout up exactly where it was.
                         Default: $XDG_STATE_HOME/canary (~/.local/state/canary): <plan>.jsonl
                         live (resumed when started again), <plan>-sim-<time>.jsonl on the
                         simulated world. CANARY_JOURNAL_KEY (environment) makes the chain an HMAC.
  --no-journal           keep nothing
  --export <host:port>   serve the simulated world's metrics at http://host:port/metrics
                         (loopback only), for a Prometheus to scrape
  --sim-http <host:port|off>  serve the simulated service there (loopback only) for load tests;
                         default: the address of the plan's loopback load-test targets
  --load-results <dir>   save each load test's result there as JSON (default: beside the
                         journal, in $XDG_STATE_HOME/canary/loadtests)

People: incidents, notifications, communications
  --comms-dir <dir>      where w (in the communications preview, c) writes the rendered
                         templates (default: ./canary-comms)
  Notifications go to the plan's notifications.channels (webhook, slack, command); their URLs
  and tokens come from the environment variables the plan names (e.g. CANARY_SLACK_WEBHOOK_URL);
  a channel whose variable is unset is off (the c overlay says which).

Kubernetes (a plan whose traffic.provider is istio, gateway-api, smi, nginx, argo-rollouts or
replicas): pods and traffic come from the clusters of the plan's regions, in real time.
  --kubeconfig <file>    like kubectl: else KUBECONFIG, else ~/.kube/config, else in-cluster
  --context <name>       for every region; or --context <region>=<name> (repeatable); default:
                         the plan's target.clusters.<region>.context, else the current context
  One terminal drives (holds the Lease canary-<plan> in the primary region's cluster); others are
  read-only and show who drives. Any terminal can roll back.

War room (canary serve takes every option of start, and):
  --listen <host:port>   where viewers join (default: 127.0.0.1:7420; loopback); another
                         address needs --cert/--key (wss://), or --insecure
  --tokens <file>        token hashes (default: $XDG_STATE_HOME/canary/<plan>-tokens.json)
  --cert <pem> --key <pem>   wss:// instead of ws://
  canary join: CANARY_TOKEN (or --token-file f), --ca <pem> for a self-signed certificate.
  Approvers press A in their own terminal; the engine's matrix decides. View-only tokens never act.

Scenarios:
${describeScenarios()
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}

Keys: ? help, tab focus, / filter pods, a advance gate, g go at checkpoint, p pause/resume,
      i declare an incident, k acknowledge, I resolve, c communications (w writes them),
      l load test (pick, y starts; x or esc stops), R then y roll back (from anywhere), q quit.

Exit codes of canary run --headless:
  0    completed (promoted and baked), or the --until point was reached
  1    configuration error (the plan or the options)
  3    rolled back (automatically or by a person): the reason is the last line
  4    held: waiting for a person (approvals, a checkpoint go, an overdue decision)
  5    a source (Prometheus) stayed unavailable past the plan's noDataAfter
  130  stopped by SIGINT/SIGTERM, after effects in flight were confirmed
canary validate: 0 valid, 1 problems, 2 file unreadable. Other commands: 0 ok, 1 bad usage.
run --headless defaults to --speed 36000 (ten simulated hours a second) on the embedded world.
`;

function fail(message: string, code = 1): never {
  process.stderr.write(`canary: ${message}\n`);
  process.exit(code);
}

function loadPlanOrExit(file: string): Plan {
  const r = loadPlanFile(file);
  if (!r.ok) {
    for (const e of r.errors) process.stderr.write(`${formatPlanError(e)}\n`);
    if (!r.unreadable) process.stderr.write(`canary: the plan has ${r.errors.length} problem(s); fix them, then \`canary validate ${file}\` shows a summary\n`);
    process.exit(1);
  }
  return r.plan;
}

function resolveScenarioByName(name: ScenarioName): Scenario {
  return SCENARIOS[name];
}

/** Client options from the plan, the command line and the environment. Secrets only from the
 * environment: a command line is visible to every user of the machine (ps). */
function prometheusOptions(plan: Plan, values: { prometheus?: string | undefined; 'prometheus-header'?: string[] | undefined; 'prometheus-ca'?: string | undefined }): PrometheusClientOptions {
  const fromPlan = clientOptionsFromPlan(plan);
  const url = values.prometheus ?? fromPlan?.url;
  if (!url) fail('no Prometheus URL: give --prometheus <url> or set sources.prometheus.url in the plan');
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    fail(`--prometheus "${url}" is not an http(s) URL, e.g. http://127.0.0.1:9090`);
  }
  const headers: Record<string, string> = {};
  for (const h of values['prometheus-header'] ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) fail(`--prometheus-header expects 'Name: value', got "${h}"`);
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  const env = process.env;
  return {
    url,
    timeoutMs: fromPlan?.timeoutMs ?? 5_000,
    ...(Object.keys(headers).length ? { headers } : {}),
    ...(env.CANARY_PROMETHEUS_TOKEN ? { bearerToken: env.CANARY_PROMETHEUS_TOKEN } : {}),
    ...(env.CANARY_PROMETHEUS_USER ? { basicAuth: { username: env.CANARY_PROMETHEUS_USER, password: env.CANARY_PROMETHEUS_PASSWORD ?? '' } } : {}),
    ...(values['prometheus-ca'] ? { caFile: values['prometheus-ca'] } : {}),
  };
}

function numberOption(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) fail(`--${name} expects a number >= ${min}, got "${text}"`);
  return n;
}

/** parseArgs, with its errors turned into one line that says what to do. */
function parseOrExit<T extends import('node:util').ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>(config);
  } catch (err) {
    const msg = err instanceof Error ? err.message.replace(/\. To specify a positional argument.*$/s, '') : String(err);
    fail(`${msg}; see \`canary help\``);
  }
}

const WORLD_OPTIONS = {
  plan: { type: 'string' },
  scenario: { type: 'string' },
  speed: { type: 'string' },
  seed: { type: 'string' },
  'pods-per-region': { type: 'string' },
  as: { type: 'string' },
  'no-crew': { type: 'boolean' },
  'regress-at': { type: 'string' },
  prometheus: { type: 'string' },
  'sli-source': { type: 'string' },
  'prometheus-header': { type: 'string', multiple: true },
  'prometheus-ca': { type: 'string' },
  export: { type: 'string' },
  journal: { type: 'string' },
  'no-journal': { type: 'boolean' },
  kubeconfig: { type: 'string' },
  context: { type: 'string', multiple: true },
  'comms-dir': { type: 'string' },
  'sim-http': { type: 'string' },
  'load-results': { type: 'string' },
} as const;

type WorldValues = {
  plan?: string | undefined;
  scenario?: string | undefined;
  speed?: string | undefined;
  seed?: string | undefined;
  'pods-per-region'?: string | undefined;
  as?: string | undefined;
  'no-crew'?: boolean | undefined;
  'regress-at'?: string | undefined;
  prometheus?: string | undefined;
  'sli-source'?: string | undefined;
  'prometheus-header'?: string[] | undefined;
  'prometheus-ca'?: string | undefined;
  export?: string | undefined;
  journal?: string | undefined;
  'no-journal'?: boolean | undefined;
  kubeconfig?: string | undefined;
  context?: string[] | undefined;
  'comms-dir'?: string | undefined;
  'sim-http'?: string | undefined;
  'load-results'?: string | undefined;
};

interface Setup {
  journal: string | null;
  plan: Plan;
  clock: Clock;
  runtime: Runtime;
  actor: Actor;
  crew: SimCrew | null;
  /** Notification channels that are off, and why (their environment variable is not set). */
  notifyOff: string[];
  notifyOn: string[];
  commsDir: string;
  close(): Promise<void>;
}

/** The plan, the clock, the embedded world (or Prometheus) and the runtime, as the options say.
 * Shared by the console and the headless runner, so both drive exactly the same machinery. */
async function setup(values: WorldValues, defaults: { speed: number; notifyEveryMs: number; serve?: boolean }): Promise<Setup> {
  const planPath = resolve(values.plan ?? DEFAULT_PLAN);
  const plan = loadPlanOrExit(planPath);
  const planText = readFileSync(planPath, 'utf8');
  const key = process.env.CANARY_JOURNAL_KEY || undefined;
  // A Kubernetes traffic provider: pods and traffic come from the plan's clusters, in real time.
  const kubePlan = isKubernetesPlan(plan);
  const live = kubePlan || (values['sli-source'] ?? (values.prometheus ? 'prometheus' : 'sim')) === 'prometheus';
  // The journal is on by default, under $XDG_STATE_HOME/canary (~/.local/state/canary): one per
  // plan for a live rollout (started again, it resumes), a fresh one per run on the simulated world.
  let journalPath = values['no-journal'] ? undefined : (values.journal ?? defaultJournalPath(plan, live));
  // One writer per journal: a second canary on this machine (a read-only terminal next to the
  // driver) must not fork the hash chain. The default one gets its own file; an explicit one is an error.
  let unlockJournal: (() => void) | null = null;
  if (journalPath) {
    const lock = lockJournal(journalPath);
    if (lock.ok) unlockJournal = lock.release;
    else if (values.journal) fail(`journal ${journalPath} is in use by ${lock.holder}; give another --journal, or --no-journal`);
    else {
      const mine = journalPath.replace(/\.jsonl$/, `-pid${process.pid}-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
      process.stderr.write(`canary: journal ${journalPath} is in use by ${lock.holder}; this terminal journals to ${mine}\n`);
      journalPath = mine;
      const again = lockJournal(journalPath);
      unlockJournal = again.ok ? again.release : null;
    }
  }
  // A journal that exists is a rollout to pick up where it was; otherwise a new one starts.
  let resumed: ResumeResult | null = null;
  if (journalPath && existsSync(journalPath)) {
    try {
      resumed = resumeSync(plan, journalPath, { planText, ...(key ? { key } : {}) });
    } catch (err) {
      fail(`journal ${journalPath}: ${err instanceof Error ? err.message : String(err)} (--journal <other file> or --no-journal to run without it)`);
    }
  }
  const scenario = values.scenario ?? 'latency-regression';
  if (!isScenarioName(scenario)) fail(`unknown scenario "${scenario}"; expected one of: ${SCENARIO_NAMES.join(', ')}`);
  const seed = numberOption('seed', values.seed, 1, 0);
  const podsPerRegion = numberOption('pods-per-region', values['pods-per-region'], 6, 0);
  const sliSource = values['sli-source'] ?? (values.prometheus ? 'prometheus' : 'sim');
  if (sliSource !== 'sim' && sliSource !== 'prometheus') fail(`--sli-source expects sim or prometheus, got "${sliSource}"`);
  const prometheus = sliSource === 'prometheus' ? prometheusOptions(plan, values) : null;
  // Prometheus evaluates queries at its own "now": with it the clock must be the real one.
  if ((prometheus || kubePlan) && values.speed !== undefined && Number(values.speed) !== 1)
    fail(`--speed ${values.speed} cannot be used with ${prometheus ? 'Prometheus' : 'Kubernetes'}: it answers for real time only; leave --speed out`);
  const realTime = prometheus !== null || kubePlan;
  const speed = realTime ? 1 : numberOption('speed', values.speed, defaults.speed, 0);
  const start = realTime ? Date.now() : (resumed?.state.now ?? DEMO_START);
  const clock: Clock = realTime ? { now: () => Date.now(), speed: 1 } : new SimClock({ start, speed });
  let kube: KubeWiring | null = null;
  if (kubePlan) {
    try {
      kube = await connectKubernetes(plan, {
        planPath,
        now: () => clock.now(),
        ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
        ...(values.context ? { contexts: values.context } : {}),
      });
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err));
    }
  } else if (values.kubeconfig || values.context) {
    fail(`--kubeconfig/--context: the plan's traffic.provider is "sim"; name a Kubernetes provider (istio, gateway-api, smi, nginx, argo-rollouts, replicas) to use clusters`);
  }
  const base = resolveScenarioByName(scenario);
  const regressAt = values['regress-at'] === undefined ? undefined : numberOption('regress-at', values['regress-at'], 0, 0);
  // The world's actuators answer after a short real delay; at very high speeds keep it tiny so a
  // weight change does not take simulated hours to be confirmed.
  const actuationDelayMs = speed > 3600 ? 1 : 20;
  const world = new SimWorld({ plan, scenario: regressAt === undefined ? base : { ...base, atWeight: regressAt }, seed, start, podsPerRegion, actuationDelayMs });
  // In real time (with Prometheus) the simulated people answer in seconds, not sim-minutes.
  // Simulated people never approve anything on real clusters.
  const crew = values['no-crew'] || kube ? null : new SimCrew(plan, prometheus ? { approveAfterMs: 5_000, goAfterMs: 30_000, advanceAfterMs: 5_000 } : {});
  let actor: Actor;
  if (values.as) {
    const p = plan.roster.people.find((x) => x.id === values.as);
    if (!p) fail(`--as ${values.as}: no such person in the plan's roster; expected one of: ${plan.roster.people.map((x) => x.id).join(', ')}`);
    actor = { id: p.id, name: p.name, roles: p.roles };
  } else {
    const p = whoIs(plan, 'sre-primary', start).person;
    actor = p ? { id: p.id, name: p.name, roles: p.roles } : { id: 'operator', name: 'operator' };
  }

  const sources: Source[] = [
    // Poll the world twice per simulated analysis interval (at most every 250 ms real), so samples
    // are never older than the plan's staleAfter only because the clock runs fast.
    new SimSource(world, clock, { periodMs: Math.min(250, Math.max(5, world.intervalMs / Math.max(speed, 1e-9) / 2)), samples: !prometheus, pods: !kube }),
  ];
  if (kube) sources.push(kube.pods, kube.watch, ...(kube.lease ? [kube.lease] : []));
  let traffic: TrafficActuator = kube ? kube.traffic : world;
  let client: PrometheusClient | null = null;
  let promSource: PrometheusSource | null = null;
  if (prometheus) {
    client = new PrometheusClient(prometheus);
    promSource = new PrometheusSource({ plan, client, clock, periodMs: 1000 });
    sources.push(promSource);
  }
  let exporter: Awaited<ReturnType<typeof startExporter>> | null = null;
  if (values.export) {
    const m = /^([^:]+|\[[^\]]+\]):(\d+)$/.exec(values.export);
    if (!m) fail(`--export expects host:port, e.g. 127.0.0.1:9464, got "${values.export}"`);
    try {
      exporter = await startExporter({ world, clock, host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]), advance: false });
    } catch (err) {
      fail(`--export ${values.export}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  // The simulated service on loopback, where the plan's load tests aim (see src/sim/serve.ts).
  // `canary start` on the simulated world serves it by default; `run --headless` and Kubernetes
  // plans only when --sim-http asks.
  let serviceAt: ReturnType<typeof simServiceAddress> = null;
  try {
    serviceAt = (defaults.serve && !kube) || values['sim-http'] !== undefined ? simServiceAddress(plan, values['sim-http']) : null;
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  const service = serviceAt ? await startSimServiceOrExplain(world, serviceAt, fail) : null;
  // The runbook's commands, pod descriptions and logs; on the embedded world the stand-ins run
  // against the simulated service, and a rollback runs the hook's stand-in too.
  // Not served for load tests (run --headless): the stand-ins still get one, on an ephemeral port.
  const runbookService = !kube && !service && values['sim-http'] !== 'off' ? await startSimService({ world, host: '127.0.0.1', port: 0 }).catch(() => null) : null;
  let runtimeRef: Runtime | null = null;
  const runbook = wireRunbook({ plan, planPath, mode: kube ? 'real' : 'sim', traffic, simUrl: (service ?? runbookService)?.url ?? null, pod: (k) => runtimeRef?.getState().pods.get(k), now: () => clock.now(), kubeTargets: kube?.targets ?? null, prometheus: client });
  traffic = runbook.traffic;
  // Load-test results: one JSON file per run, beside the journal unless --load-results says where.
  const resultsDir = values['load-results'] ? resolve(values['load-results']) : join(journalPath ? dirname(journalPath) : dirname(defaultJournalPath(plan, live)), 'loadtests');
  const loadRunner = new PlanLoadRunner({ plan, resultsDir, scriptDirs: [process.cwd(), dirname(planPath), packageRoot()] });
  let writer: JournalWriter | null = resumed?.writer ?? null;
  if (journalPath && !resumed) {
    try {
      mkdirSync(dirname(journalPath), { recursive: true });
      writer = await JournalWriter.open(journalPath, { plan, planText, start: clock.now(), ...(key ? { key } : {}) });
    } catch (err) {
      fail(`journal ${journalPath}: ${err instanceof Error ? err.message : String(err)} (--journal <other file> or --no-journal to run without it)`);
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
  const notifier = new ChannelNotifier({ plan });
  const commsDir = resolve(values['comms-dir'] ?? 'canary-comms');
  const runtime = new Runtime({
    plan,
    clock,
    sources,
    traffic,
    // A Kubernetes rollback keeps trying for 60 s, then scales down and runs the hook (up to 120 s):
    // the runtime must not give up on it first.
    ...(kube ? { actuatorTimeoutMs: 240_000 } : {}),
    notifier,
    comms: new DirectoryCommsWriter(commsDir),
    loadRunner,
    commands: runbook.commands,
    inspector: runbook.inspector,
    ...(resumed ? { initial: resumed.state } : {}),
    ...(writer ? { journal: writer } : {}),
    // In real time the panes refresh once a second (a key's own feedback is immediate): an idle
    // console then costs well under 1% of a core. Fast-forwarded, ten times a second.
    notifyEveryMs: speed <= 1 && defaults.notifyEveryMs > 0 ? 1000 : defaults.notifyEveryMs,
    // On the simulated world its source carries time (ticks after each batch); with Prometheus
    // the real clock ticks.
    tickMs: realTime ? 250 : 0,
    observers: crew ? [(state) => crew.decide(state)] : [],
  });
  runtimeRef = runtime;
  // The sparklines' history from Prometheus (query_range), once, before the live ticks: later
  // ticks ask only for the newest point. Not when a rollout is already under way: rules would
  // judge old points as if they were news.
  if (promSource && (resumed === null || resumed.state.status === 'pending')) {
    for (const e of await promSource.backfill(60)) runtime.dispatch(e);
  }
  // Who drives, before anything can move traffic: a resumed journal may say "this terminal" from an
  // earlier process, and the in-doubt redo below needs the lease.
  if (kube?.lease) {
    const won = await kube.lease.tryAcquireOrRenew();
    runtime.dispatch({ type: 'driver.status', at: clock.now(), holder: won ? kube.lease.identity : kube.lease.holder, self: won });
  }
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
  return {
    plan,
    clock,
    runtime,
    actor,
    crew,
    journal: journalPath ?? null,
    notifyOff: notifier.off,
    notifyOn: notifier.channels,
    commsDir,
    async close() {
      await runtime.stop();
      // Deliveries still queued get a moment to go out, then the rest are dropped.
      await Promise.race([notifier.idle(), new Promise((r) => setTimeout(r, 2_000).unref())]);
      notifier.close();
      writer?.close();
      unlockJournal?.();
      client?.close();
      kube?.close();
      await exporter?.close();
      await service?.close();
      await runbookService?.close();
    },
  };
}

const SERVE_OPTIONS = { listen: { type: 'string' }, tokens: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, insecure: { type: 'boolean' } } as const;

async function start(argv: string[], warRoom = false): Promise<void> {
  const { values } = parseOrExit({ args: argv, options: warRoom ? { ...WORLD_OPTIONS, ...SERVE_OPTIONS } : WORLD_OPTIONS, allowPositionals: false });
  const { plan, clock, runtime, actor, close, journal, notifyOff, notifyOn, commsDir } = await setup(values, { speed: 3600, notifyEveryMs: 100, serve: true });
  // `canary serve`: the same console, and its state published to the war room.
  let room: OpenedRoom | null = null;
  const WarRoomConsole = warRoom ? (await import('../components/WarRoom.js')).WarRoomConsole : null;
  if (warRoom) {
    const v = values as { listen?: string; tokens?: string; cert?: string; key?: string; plan?: string; insecure?: boolean };
    const { openWarRoom } = await import('./warroom/commands.js');
    try {
      room = await openWarRoom({ plan, planText: readFileSync(resolve(v.plan ?? DEFAULT_PLAN), 'utf8'), runtime, clock, listen: v.listen, tokens: v.tokens, cert: v.cert, key: v.key, insecure: v.insecure });
    } catch (err) {
      await close();
      fail(err instanceof Error ? err.message : String(err));
    }
  }

  const tty = Boolean(process.stdout.isTTY);
  const leaveAltScreen = () => {
    if (tty) process.stdout.write('\x1b[?1049l');
  };
  if (tty) process.stdout.write('\x1b[?1049h\x1b[H');
  process.on('exit', leaveAltScreen);

  // A closed terminal (SIGHUP) or a kill (SIGTERM) skips Node's 'exit' handlers by default: turn
  // them into an exit, so a running artillery process group, the alternate screen and the journal
  // lock are taken care of (ctrl-c is Ink's, and ends the same way).
  for (const [sig, code] of [['SIGTERM', 143], ['SIGHUP', 129]] as const) process.once(sig, () => process.exit(code));
  // Sources first, so the very first frame already has data.
  runtime.start();
  let quit: () => void = () => undefined;
  const props = { plan, store: runtime, actor, now: () => clock.now(), onQuit: () => quit(), people: { notifyOn, notifyOff, commsDir }, ...(journal ? { journal } : {}) };
  const ink = render(room && WarRoomConsole ? <WarRoomConsole {...props} room={room} /> : <App {...props} />, INK_OPTIONS);
  quit = () => ink.unmount();
  await ink.waitUntilExit();
  await room?.close();
  await close();
  leaveAltScreen();
  const s = runtime.getState();
  process.stdout.write(`canary: left the console; rollout ${s.status} at ${s.desiredWeight}%${s.rollback ? ` (${s.rollback.reason})` : ''}${journal ? `; journal ${journal}` : ''}\n`);
  process.exit(0);
}

/** How every console renders (Ink 6.8's incremental rendering broke our frames: it is off). */
const INK_OPTIONS = { exitOnCtrlC: true, patchConsole: true, maxFps: 15, incrementalRendering: false } as const;

/** `canary run --headless`: no screen; lines (or JSON lines) and an exit code. */
async function run(argv: string[]): Promise<void> {
  const { values } = parseOrExit({
    args: argv,
    options: { ...WORLD_OPTIONS, headless: { type: 'boolean' }, json: { type: 'boolean' }, until: { type: 'string' }, sim: { type: 'boolean' } },
    allowPositionals: false,
  });
  if (!values.headless) fail('`canary run` needs --headless (the console is `canary start`)');
  const s = await setup(values, { speed: 36_000, notifyEveryMs: 0 });
  if (values.until !== undefined && values.until !== 'complete' && !s.plan.phases.some((p) => p.id === values.until))
    fail(`--until ${values.until}: expected "complete" or a phase id: ${s.plan.phases.map((p) => p.id).join(', ')}`);
  s.runtime.start();
  const result = await runHeadless({
    plan: s.plan,
    runtime: s.runtime,
    json: values.json === true,
    peopleAct: s.crew !== null,
    ...(values.until !== undefined ? { until: values.until } : {}),
  });
  await s.close();
  process.exitCode = result.code;
  // Let stdout drain before leaving (a pipe may still hold lines).
  process.stdout.write('', () => process.exit(result.code));
}

/** An exclusive lock next to the journal (`<journal>.lock`, holding our pid). A lock whose process
 * is gone is taken over. */
export function lockJournal(path: string): { ok: true; release: () => void } | { ok: false; holder: string } {
  const lock = `${path}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      const release = () => {
        try {
          if (readFileSync(lock, 'utf8').trim() === String(process.pid)) rmSync(lock);
        } catch {
          /* gone already */
        }
      };
      process.once('exit', release);
      return { ok: true, release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(lock, 'utf8').trim());
      let alive = false;
      try {
        process.kill(pid, 0);
        alive = pid > 0;
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === 'EPERM';
      }
      if (alive) return { ok: false, holder: `canary pid ${pid}` };
      rmSync(lock, { force: true }); // stale: its process is gone
    }
  }
  return { ok: false, holder: 'another canary (lock file could not be taken)' };
}

/** $XDG_STATE_HOME/canary (default ~/.local/state/canary): <plan>.jsonl for a live rollout,
 * <plan>-sim-<time>.jsonl for a run on the simulated world (never resumed by default). */
export function defaultJournalPath(plan: Plan, live: boolean): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  const name = live ? `${plan.metadata.name}.jsonl` : `${plan.metadata.name}-sim-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`;
  return join(base, 'canary', name);
}

/** `canary audit verify <journal> [--expect-head seq:hash]`: the chain, the first tampered entry, the head. */
function audit(argv: string[]): void {
  const { values, positionals } = parseOrExit({ args: argv, options: { 'expect-head': { type: 'string' } }, allowPositionals: true });
  if (positionals[0] !== 'verify' || positionals.length !== 2) fail('usage: canary audit verify <journal> [--expect-head seq:hash]');
  const file = positionals[1]!;
  if (!existsSync(file)) fail(`${file}: no such journal`);
  const key = process.env.CANARY_JOURNAL_KEY || undefined;
  const r = verifyJournal(file, { ...(key ? { key } : {}), ...(values['expect-head'] ? { expectedHead: values['expect-head'] } : {}) });
  process.stdout.write(`${r.text}\n`);
  process.exit(r.ok ? 0 : 1);
}

function planAndText(values: { plan?: string | undefined }): { plan: Plan; planText: string } {
  const planPath = resolve(values.plan ?? DEFAULT_PLAN);
  return { plan: loadPlanOrExit(planPath), planText: readFileSync(planPath, 'utf8') };
}

/** `canary replay <journal>`: the console as it was, with time to move through. */
async function replayCmd(argv: string[]): Promise<void> {
  const { values, positionals } = parseOrExit({ args: argv, options: { plan: { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 1) fail('usage: canary replay <journal> [--plan file]');
  const file = positionals[0]!;
  const { plan, planText } = planAndText(values);
  const key = process.env.CANARY_JOURNAL_KEY || undefined;
  let frames: ReplayFrame[];
  try {
    const read = readJournal(file, key ? { key } : {});
    if (read.problems.length) process.stderr.write(`canary: ${file} does not verify (${read.problems.length} problem(s)); replaying what is there. Run \`canary audit verify ${file}\`.\n`);
    if (!read.header) fail(`${file}: no journal header`);
    if (sha256Hex(planText) !== read.header.event.planHash) process.stderr.write(`canary: ${file} was written with another version of the plan file\n`);
    frames = [{ seq: 0, state: initialState(plan, read.header.at) }];
    for (const step of replaySteps(plan, read)) frames.push({ seq: step.entry.seq, state: step.state });
  } catch (err) {
    fail(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const tty = Boolean(process.stdout.isTTY);
  if (tty) process.stdout.write('\x1b[?1049h\x1b[H');
  const ink = render(<Replay plan={plan} frames={frames} file={file} />, { exitOnCtrlC: true, patchConsole: true, maxFps: 30, incrementalRendering: false });
  await ink.waitUntilExit();
  if (tty) process.stdout.write('\x1b[?1049l');
  process.exit(0);
}

/** `canary report <journal> [--plan file]`: the Markdown retrospective. */
function reportCmd(argv: string[]): void {
  const { values, positionals } = parseOrExit({ args: argv, options: { plan: { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 1) fail('usage: canary report <journal> [--plan file]');
  const { plan, planText } = planAndText(values);
  const key = process.env.CANARY_JOURNAL_KEY || undefined;
  try {
    process.stdout.write(report(plan, positionals[0]!, { planText, ...(key ? { key } : {}) }));
  } catch (err) {
    fail(`${positionals[0]}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** `canary status --journal <file> [--json]`: one-shot summary, like `kubectl argo rollouts status`. */
function statusCmd(argv: string[]): void {
  const { values } = parseOrExit({ args: argv, options: { journal: { type: 'string' }, plan: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: false });
  if (!values.journal) fail('usage: canary status --journal <file> [--json] (status from a running `canary serve` arrives with the war room)');
  const { plan, planText } = planAndText(values);
  const key = process.env.CANARY_JOURNAL_KEY || undefined;
  try {
    const r = replayJournal(plan, values.journal, { planText, ...(key ? { key } : {}) });
    const text = statusText(plan, r.state, { json: values.json === true, problems: r.problems.map((p) => `${p.kind} at line ${p.line}: ${p.message}`), torn: r.torn !== null });
    process.stdout.write(text);
  } catch (err) {
    fail(`${values.journal}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** `canary rollback --reason "..."`: traffic off the canary in every cluster of the plan, from any
 * shell, with the same code as `R` `y` in the console. Never needs the lease (taking traffic off
 * is always allowed); the driving console sees 0% as drift and holds. */
async function rollbackCmd(argv: string[]): Promise<void> {
  const { values } = parseOrExit({
    args: argv,
    options: { plan: { type: 'string' }, reason: { type: 'string' }, kubeconfig: { type: 'string' }, context: { type: 'string', multiple: true }, json: { type: 'boolean' }, as: { type: 'string' } },
    allowPositionals: false,
  });
  if (!values.reason?.trim()) fail('canary rollback needs --reason "what happened" (the hook gets it as $ROLLBACK_REASON; the driving console sees the rollback and records it)');
  const planPath = resolve(values.plan ?? DEFAULT_PLAN);
  const plan = loadPlanOrExit(planPath);
  if (!isKubernetesPlan(plan)) fail(`${planPath}: traffic.provider is "sim"; canary rollback acts on a Kubernetes provider (istio, gateway-api, smi, nginx, argo-rollouts, replicas)`);
  let kube: KubeWiring;
  try {
    kube = await connectKubernetes(plan, {
      planPath,
      now: () => Date.now(),
      lease: false,
      ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
      ...(values.context ? { contexts: values.context } : {}),
    });
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  const who = values.as ?? process.env.USER ?? 'someone';
  const reason = `manual rollback by ${who}: ${values.reason.trim()}`;
  const t0 = performance.now();
  const r = await kube.traffic.rollback(reason, plan.target.regions);
  const ms = Math.round(performance.now() - t0);
  kube.close();
  const ok = (r.clusters ?? []).every((c) => c.ok);
  if (values.json) process.stdout.write(`${JSON.stringify({ ok, reason, ms, clusters: r.clusters, detail: r.detail })}\n`);
  else {
    for (const c of r.clusters ?? []) process.stdout.write(`${c.ok ? '✓' : '✗'} ${c.cluster.padEnd(20)} ${c.weight ?? '?'}%  ${c.detail}${c.attempts > 1 ? ` (${c.attempts} tries)` : ''}\n`);
    process.stdout.write(`${ok ? 'rolled back' : 'ROLLBACK NOT CONFIRMED'} in ${ms} ms: ${r.detail}\n`);
  }
  process.exit(ok ? 0 : 3);
}

/** `canary tokens`: a war-room token per person of the roster (and view-only ones), shown once. */
async function tokensCmd(argv: string[]): Promise<void> {
  const { values } = parseOrExit({ args: argv, options: { plan: { type: 'string' }, file: { type: 'string' }, person: { type: 'string', multiple: true }, viewers: { type: 'string' } }, allowPositionals: false });
  const { plan } = planAndText(values);
  const viewers = numberOption('viewers', values.viewers, 0, 0);
  const { runTokens } = await import('./warroom/commands.js');
  try {
    runTokens(plan, { file: values.file, people: values.person, viewers }, process.stdout);
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
}

/** `canary join <url>`: the same console, live from a `canary serve`, as the token's person. */
async function joinCmd(argv: string[]): Promise<void> {
  const { values, positionals } = parseOrExit({ args: argv, options: { 'token-file': { type: 'string' }, ca: { type: 'string' }, plan: { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 1) fail('usage: canary join <url> [--token-file f] [--ca cert.pem] (token: CANARY_TOKEN)');
  const { joinRoom, joinedLine } = await import('./warroom/commands.js');
  const { WarRoomConsole } = await import('../components/WarRoom.js');
  let store: Awaited<ReturnType<typeof joinRoom>>;
  try {
    store = await joinRoom(positionals[0], { tokenFile: values['token-file'], ca: values.ca });
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  // The plan as the server runs it (a local --plan only if the server sent none).
  let plan: Plan;
  if (store.planText !== null) {
    const r = loadPlanText(store.planText, `${positionals[0]} (plan)`);
    if (!r.ok) fail(`the server's plan does not load here: ${r.errors.map(formatPlanError).join('; ')}`);
    plan = r.plan;
  } else plan = planAndText(values).plan;
  const you = store.you!;
  const actor: Actor = you.canAct ? { id: you.id, name: you.name, roles: you.roles } : { id: you.id, name: you.name, roles: [], viewer: true };
  const tty = Boolean(process.stdout.isTTY);
  if (tty) process.stdout.write('\x1b[?1049h\x1b[H');
  let quit: () => void = () => undefined;
  const ink = render(<WarRoomConsole plan={plan} store={store} actor={actor} now={() => store.getState().now} onQuit={() => quit()} room={joinedLine(store, positionals[0]!)} />, INK_OPTIONS);
  quit = () => ink.unmount();
  await ink.waitUntilExit();
  store.close();
  if (tty) process.stdout.write('\x1b[?1049l');
  process.stdout.write(`canary: left the war room (${you.name})\n`);
  process.exit(0);
}

/** `canary wall [url]`: the war-room display (blessed-contrib); joins a serve, or runs the embedded world. */
async function wallCmd(argv: string[]): Promise<void> {
  const { values, positionals } = parseOrExit({ args: argv, options: { ...WORLD_OPTIONS, 'token-file': { type: 'string' }, ca: { type: 'string' } }, allowPositionals: true });
  if (positionals.length > 1) fail('usage: canary wall [<url>] [--token-file f] [--ca cert.pem] (or, without a URL, the options of start)');
  if (!process.stdout.isTTY) fail('canary wall draws a full screen: run it in a terminal');
  const { startWall } = await import('../components/Wall.js');
  const { joinRoom } = await import('./warroom/commands.js');
  let plan: Plan;
  let store: import('./runtime/store.js').Store;
  let source: string;
  let stop: () => Promise<void> | void;
  if (positionals[0]) {
    let remote: Awaited<ReturnType<typeof joinRoom>>;
    try {
      remote = await joinRoom(positionals[0], { tokenFile: values['token-file'], ca: values.ca });
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err));
    }
    if (remote.planText !== null) {
      const r = loadPlanText(remote.planText, `${positionals[0]} (plan)`);
      if (!r.ok) fail(`the server's plan does not load here: ${r.errors.map(formatPlanError).join('; ')}`);
      plan = r.plan;
    } else plan = planAndText(values).plan;
    store = remote;
    source = `${positionals[0]} as ${remote.you?.name ?? '?'}`;
    stop = () => remote.close();
  } else {
    const s = await setup({ ...values, 'no-journal': values['no-journal'] ?? values.journal === undefined }, { speed: 3600, notifyEveryMs: 250 });
    s.runtime.start();
    plan = s.plan;
    store = s.runtime;
    source = 'embedded simulated world';
    stop = () => s.close();
  }
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  const wall = await startWall({ plan, store, output: process.stdout as unknown as import('../components/Wall.js').WallOutput, input: process.stdin, source, onQuit: () => done() });
  process.on('SIGTERM', () => done());
  await finished;
  wall.destroy();
  await stop();
  process.exit(0);
}

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
      return start([]);
    case 'start':
      return start(rest);
    case 'run':
      return run(rest);
    case 'validate': {
      if (rest.length !== 1) fail('usage: canary validate <plan.yaml>');
      process.exit(runValidate(rest[0]!, process.stdout, process.stderr));
    }
    case 'schema':
      process.exit(runSchema(process.stdout));
    case 'audit':
      return audit(rest);
    case 'report':
      return reportCmd(rest);
    case 'replay':
      return replayCmd(rest);
    case 'status':
      return statusCmd(rest);
    case 'rollback':
      return rollbackCmd(rest);
    case 'serve':
      return start(rest, true);
    case 'join':
      return joinCmd(rest);
    case 'tokens':
      return tokensCmd(rest);
    case 'wall':
      return wallCmd(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return;
    default:
      if (cmd.startsWith('--')) return start(argv);
      fail(`unknown command "${cmd}"; try \`canary help\``);
  }
}

const invokedDirectly = (() => {
  try {
    return Boolean(process.argv[1]) && realpathSync(process.argv[1]!) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();
if (invokedDirectly) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`canary: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
