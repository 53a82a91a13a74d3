// The options of every command that runs a rollout (start, serve, run --headless, wall without a
// URL): the plan, the embedded simulated world, Prometheus, Kubernetes, the journal, people.
import { SCENARIO_NAMES } from '../sim/scenarios.js';
import { checkHostPort, type OptionTable } from './options.js';

/** The fastest the embedded world runs: at 100000 simulated seconds a second a 13-day plan plays in
 * ~12 s (see README, "Ranges"). */
export const MAX_SPEED = 100_000;
/** The most stable pods per region of the embedded world (each is simulated, and drawn). The world
 * cannot fall behind its clock at any count (the clock waits for it, src/sim/sources.ts): more pods
 * only make it slower, and the speed it reaches is shown. At 1000 per region and --speed 100000 a
 * healthy headless run completes in ~17 s at ~×85000 on a loaded 2-core machine (3000: ~68 s, ×20000). */
export const MAX_PODS_PER_REGION = 1000;

export const WORLD_OPTIONS = {
  plan: { type: 'string', arg: 'file', help: 'rollout plan (default: config/maestro-conductor-rc.yaml)', file: true },
  scenario: { type: 'string', arg: 'name', help: 'what the simulated canary does (default: latency-regression)', choices: SCENARIO_NAMES },
  speed: { type: 'number', arg: 'n', help: 'simulated seconds per real second (default: 3600, one hour a second; run --headless: 36000)', min: 0.1, max: MAX_SPEED },
  seed: { type: 'number', arg: 'n', help: 'seed of the simulated world (default: 1)', min: 0, max: 2 ** 32 - 1, integer: true },
  'pods-per-region': { type: 'number', arg: 'n', help: 'stable pods per region (default: 6)', min: 0, max: MAX_PODS_PER_REGION, integer: true },
  as: { type: 'string', arg: 'person-id', help: "who you are in the plan's roster (default: the primary SRE on call)" },
  'no-crew': { type: 'boolean', help: 'no simulated approvers: gates wait for people' },
  'regress-at': { type: 'number', arg: 'weight', help: "the scenario's fault starts at this canary weight, in % (default: the scenario's)", min: 0, max: 100 },
  prometheus: { type: 'string', arg: 'url', help: "query the plan's PromQL at this Prometheus (or Thanos, Mimir, VictoriaMetrics) instead of the simulated world's numbers; the clock is then real time" },
  'sli-source': { type: 'string', arg: 'name', help: "sim (default) or prometheus (with the plan's sources.prometheus.url)", choices: ['sim', 'prometheus'] },
  'prometheus-header': { type: 'list', arg: "'Name: value'", help: "extra header, e.g. 'X-Scope-OrgID: tenant-1' (repeatable)" },
  'prometheus-ca': { type: 'string', arg: 'file', help: 'CA bundle for https', file: true },
  export: { type: 'string', arg: 'host:port', help: "serve the simulated world's metrics at http://host:port/metrics (loopback only), for a Prometheus to scrape", check: checkHostPort },
  journal: { type: 'string', arg: 'file', help: 'keep every decision in this journal (append-only, hash-chained); if it exists, pick the rollout up where it was (default: under $XDG_STATE_HOME/canary)', file: true },
  'no-journal': { type: 'boolean', help: 'keep nothing' },
  kubeconfig: { type: 'string', arg: 'file', help: 'like kubectl: else KUBECONFIG, else ~/.kube/config, else in-cluster', file: true },
  context: { type: 'list', arg: 'name', help: "for every region; or <region>=<name> (repeatable); default: the plan's target.clusters.<region>.context, else the current context" },
  'comms-dir': { type: 'string', arg: 'dir', help: 'where w (in the communications preview, c) writes the rendered templates (default: ./canary-comms)', file: true },
  'sim-http': { type: 'string', arg: 'host:port|off', help: "serve the simulated service there (loopback only) for load tests; default: the address of the plan's loopback load-test targets", check: (v) => (v === 'off' ? null : checkHostPort(v)) },
  'load-results': { type: 'string', arg: 'dir', help: "save each load test's result there as JSON (default: beside the journal, in $XDG_STATE_HOME/canary/loadtests)", file: true },
} as const satisfies OptionTable;

/** What start, serve and run print after their options. */
export const WORLD_DETAILS = `Prometheus credentials come from the environment only (never the command line):
  CANARY_PROMETHEUS_TOKEN (bearer), CANARY_PROMETHEUS_USER / CANARY_PROMETHEUS_PASSWORD (basic).
CANARY_JOURNAL_KEY (environment) makes the journal's chain an HMAC.
Kubernetes (a plan whose traffic.provider is istio, gateway-api, smi, nginx, argo-rollouts or
replicas): pods and traffic come from the clusters of the plan's regions, in real time. One
terminal drives (holds the Lease canary-<plan>); others are read-only. Any terminal can roll back.
Notifications go to the plan's notifications.channels; their URLs and tokens come from the
environment variables the plan names (a channel whose variable is unset is off).`;

/** `canary serve`: the world's options and where the war room listens. */
export const SERVE_OPTIONS = {
  ...WORLD_OPTIONS,
  listen: { type: 'string', arg: 'host:port', help: 'where viewers join (default: 127.0.0.1:7420; loopback); another address needs --cert/--key (wss://), or --insecure', check: checkHostPort },
  tokens: { type: 'string', arg: 'file', help: 'token hashes (default: $XDG_STATE_HOME/canary/<plan>-tokens.json)', file: true },
  cert: { type: 'string', arg: 'pem', help: 'certificate: wss:// instead of ws:// (with --key)', file: true },
  key: { type: 'string', arg: 'pem', help: 'private key of --cert', file: true },
  insecure: { type: 'boolean', help: 'allow plain ws:// on a non-loopback address (tokens then cross the network in clear)' },
} as const satisfies OptionTable;

/** `canary run --headless`. */
export const RUN_OPTIONS = {
  ...WORLD_OPTIONS,
  headless: { type: 'boolean', help: 'no screen (required: the console is `canary start`)' },
  json: { type: 'boolean', help: 'one JSON object per line for every state change, verdict, effect and outcome' },
  until: { type: 'string', arg: 'phase|complete', help: 'stop once that phase is entered (and its weight confirmed), or the rollout completes' },
  sim: { type: 'boolean', help: 'the embedded simulated world (the default)' },
  timeout: { type: 'string', arg: 'duration', help: 'end the run after this much real time (e.g. 10m, 1h) whatever the rollout does: exit 124' },
} as const satisfies OptionTable;
