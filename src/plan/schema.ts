// The rollout plan: what the seed document says, as data the engine can judge against.
// Every shape here is strict (unknown keys are errors) so a typo in a plan never silently
// turns a safety rule off. Cross-field checks (weights increasing, roles known, SLIs known)
// live in `refinePlan` so their messages can point at the exact key.
import { z } from 'zod';
import { checkLoadTests } from './loadtests.js';
import { checkCalendar, checkReports, Report } from './reports.js';
import { formatDuration, MAX_TIMER_MS, parseDuration } from './duration.js';
import { Duration } from './duration-schema.js';
import { Simulate } from './simulate.js';
import { impossibleThreshold, UNIT_RANGE } from './units.js';
import { kubeTrafficProvider, TRAFFIC_PROVIDER_KINDS, trafficSettingsShape, type TrafficSettings } from './traffic-providers.js';
import { trackLabels } from './tracks.js';
import { trafficSliProblems } from './traffic-sli.js';

export { formatDuration, parseDuration } from './duration.js';
export { Duration } from './duration-schema.js';
export { MAX_DURATION_MS, MAX_TIMER_MS } from './duration.js';
export { placeholders, TEMPLATE_VALUES } from './templates.js';
import { placeholders, TEMPLATE_VALUES } from './templates.js';

/** A duration that must be more than zero (an interval, a window, a timeout). */
export const PositiveDuration = Duration.refine((s) => (parseDuration(s) ?? 0) > 0, { message: 'expected a duration longer than 0 (e.g. "1m")' });

/** A duration a timer waits for: more than zero and at most ~24 days (Node's timer limit). */
export const TimerDuration = PositiveDuration.refine((s) => (parseDuration(s) ?? 0) <= MAX_TIMER_MS, {
  message: 'expected a duration longer than 0 and at most 24d (a timer cannot wait longer)',
});
import { ChecklistItem, CheckpointRunbook, CommandSpec, FeatureFlag, Runbook, runbookProblems } from './runbook.js';

const Id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected an id: lowercase letters, digits, "-" or "_"');

const Weight = z
  .number({ error: 'expected a traffic weight: a number from 0 to 100' })
  .min(0, 'a traffic weight is a percentage: 0 to 100')
  .max(100, 'a traffic weight is a percentage: 0 to 100');

/** How a measured value is compared. `trip` rules fire when the comparison is true;
 * success criteria pass when it is true. */
export const Op = z.enum(['<', '<=', '>', '>=', '==']);
export type Op = z.infer<typeof Op>;

export const Sli = z.strictObject({
  name: Id,
  title: z.string(),
  unit: z.enum(['percent', 'ms', 'count', 'rps']),
  /** PromQL; `$track` is replaced with the track selector value (canary or baseline). */
  query: z.string().min(1),
  /** Which way is good; used by sparkline colouring and the canary-vs-baseline judgment. */
  direction: z.enum(['higher-is-better', 'lower-is-better']),
  /** The seed query this SLI is built on, kept verbatim for the audit trail. */
  seedQuery: z.string().optional(),
  /** What the embedded simulated world produces for it (simulate.ts); required on that world. */
  simulate: Simulate.optional(),
});
export type Sli = z.infer<typeof Sli>;

export const Criterion = z.strictObject({
  sli: Id,
  op: Op,
  value: z.number(),
  /** Text of the seed's target, e.g. "<500ms", shown beside the measured value. */
  seed: z.string().optional(),
});
export type Criterion = z.infer<typeof Criterion>;

/** Fields every rollback rule has. */
const RuleBase = {
  id: Id,
  title: z.string(),
  /** The incident a trip of this rule opens (default: the signal's severity, else P0). */
  incident: z.enum(['P0', 'P1', 'P2']).optional(),
  seed: z.string().optional(),
};

/** The kinds of rollback rule. Each is told apart by the key only it has (`value`,
 * `baselineFactor`, `consecutive`, `signal`); `kind` may also be written out. A new kind is one
 * more entry here (and a case where the engine evaluates rules: `ruleCondition` in reduce.ts). */
const ValueRule = z.strictObject({
  kind: z.literal('value').optional(),
  ...RuleBase,
  sli: Id,
  op: Op,
  value: z.number(),
  /** The condition must hold this long before the rule trips ("service_unavailable: >5min"). */
  for: Duration.optional(),
});
const RelativeRule = z.strictObject({
  kind: z.literal('relative').optional(),
  ...RuleBase,
  sli: Id,
  op: Op,
  /** Trips when canary `op` baselineFactor x baseline (and at least `minimum` in absolute terms). */
  baselineFactor: z.number().positive(),
  minimum: z.number().optional(),
  for: Duration.optional(),
});
const ConsecutiveRule = z.strictObject({
  kind: z.literal('consecutive').optional(),
  ...RuleBase,
  /** Count of consecutive failed analysis intervals (the seed's consecutive_failures). */
  consecutive: z.number().int().positive(),
});
const SignalRule = z.strictObject({
  kind: z.literal('signal').optional(),
  ...RuleBase,
  /** An operator-declared signal such as a P0 customer escalation. */
  signal: z.strictObject({ name: Id, severity: z.enum(['P0', 'P1', 'P2']).optional() }),
  /** Roles that may declare it (default: the plan's rollback authority and the roles the
   * escalation matrix pages for the signal's severity). A person without one of them is refused. */
  declaredBy: z.array(Id).min(1).optional(),
});

/** Which kind a rule written without `kind` is: the key only that kind has. */
function ruleKind(x: Record<string, unknown>): TripRuleKind {
  if (typeof x.kind === 'string' && (RULE_KINDS as readonly string[]).includes(x.kind)) return x.kind as TripRuleKind;
  if ('signal' in x) return 'signal';
  if ('consecutive' in x) return 'consecutive';
  if ('baselineFactor' in x) return 'relative';
  return 'value';
}
export const RULE_KINDS = ['value', 'relative', 'consecutive', 'signal'] as const;
export type TripRuleKind = (typeof RULE_KINDS)[number];
const RULE_SCHEMAS = { value: ValueRule, relative: RelativeRule, consecutive: ConsecutiveRule, signal: SignalRule } as const;

/** A rollback rule: a discriminated union on `kind` (filled in from the keys when not written). */
export const TripRule = z
  .union([ValueRule, RelativeRule, ConsecutiveRule, SignalRule])
  .transform((r) => ({ ...r, kind: ruleKind(r as Record<string, unknown>) }) as TripRule);
export type TripRule =
  | (z.infer<typeof ValueRule> & { kind: 'value' })
  | (z.infer<typeof RelativeRule> & { kind: 'relative' })
  | (z.infer<typeof ConsecutiveRule> & { kind: 'consecutive' })
  | (z.infer<typeof SignalRule> & { kind: 'signal' });
/** The schema of one kind of rule (the loader reports a rule's problems against its own kind). */
export function ruleSchemaFor(x: unknown): z.ZodType | undefined {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return undefined;
  return RULE_SCHEMAS[ruleKind(x as Record<string, unknown>)];
}

export const Step = z.strictObject({
  weight: Weight,
  bake: z.strictObject({ min: Duration, max: Duration.optional() }),
  /** Steps inside a phase proceed on their own when criteria pass; a phase's first step waits
   * for its gate (approvals + a person pressing advance). */
  auto: z.boolean().default(true),
});
export type Step = z.infer<typeof Step>;

export const Checkpoint = z.strictObject({
  at: Duration,
  title: z.string(),
  /** What a no-go does (hold | rollback), and a point later than the minimum bake (ask | skip). */
  ...CheckpointRunbook,
});

export const ApprovalRequirement = z.strictObject({
  role: Id,
  /** `weekend-or-holiday`: required only when the gate is opened on a weekend or a plan holiday. */
  when: z.enum(['always', 'weekend-or-holiday']).default('always'),
});

/** A number the seed states for a phase that no SLI judges (yet): the seed's phase3_benchmarks.
 * Load tests of the phase are meant to be judged against these. */
export const Benchmark = z.strictObject({
  name: Id,
  op: Op,
  value: z.number(),
  /** Free text such as "req/min", "ms", "rounds/day", "workflows". */
  unit: z.string().min(1).optional(),
  /** The seed's line, verbatim, e.g. "api_throughput: 50000 req/min". */
  seed: z.string().optional(),
});
export type Benchmark = z.infer<typeof Benchmark>;

/** A success metric of the release as a whole (the seed's "Success Metrics & KPIs"). `target` is
 * machine-readable (a number is compared with `op`; a boolean must hold); `seed` keeps the text. */
export const Kpi = z.strictObject({
  name: Id,
  op: Op.optional(),
  target: z.union([z.number(), z.boolean(), z.string().min(1)]),
  unit: z.string().min(1).optional(),
  seed: z.string().optional(),
});
export type Kpi = z.infer<typeof Kpi>;

/** KPI groups by kind; each group (e.g. `deployment_success`) is a list of KPIs. */
export const Kpis = z.strictObject({
  technical: z.record(Id, z.array(Kpi).min(1)).optional(),
  business: z.record(Id, z.array(Kpi).min(1)).optional(),
});
export type Kpis = z.infer<typeof Kpis>;

/** A named list of things people tick off (pre-deployment readiness, post-deployment actions). */
export const Checklist = z.strictObject({
  /** What phases[].checklists refer to: the gate into such a phase waits for every item. */
  id: Id.optional(),
  name: z.string().min(1),
  /** Text a person ticks, or { text, check } ticked by a command or a PromQL query. */
  items: z.array(ChecklistItem).min(1),
});
export type Checklist = z.infer<typeof Checklist>;

export const Phase = z.strictObject({
  id: Id,
  title: z.string(),
  audience: z.string(),
  maxUsers: z.number().int().positive().optional(),
  regions: z.union([z.literal('all'), z.array(Id).min(1)]),
  features: z.string(),
  steps: z.array(Step).min(1),
  /** Go/no-go decision points, measured from the start of the phase. */
  checkpoints: z.array(Checkpoint).default([]),
  /** Who must approve before traffic enters this phase. */
  approvals: z.array(ApprovalRequirement).default([]),
  /** Replaces the plan-wide success criteria for this phase. */
  successCriteria: z.array(Criterion).optional(),
  /** Monitoring after the last step (the seed's "monitored for 7 days"). */
  monitor: Duration.optional(),
  notes: z.array(z.string()).default([]),
  /** Who may be in this phase's audience (the seed's "Customer Selection Criteria"), as written. */
  selection: z.array(z.string().min(1)).optional(),
  /** Numbers the phase must meet that are judged by load tests, not by SLIs. */
  benchmarks: z.array(Benchmark).optional(),
  /** Load tests that must pass during this phase before it moves on (next step, next phase, or
   * completion): the gate shows each one missing as a blocker. */
  requireLoadTests: z.array(Id).optional(),
  /** Checklists (by id) every item of which must be ticked before the gate into this phase opens. */
  checklists: z.array(Id).optional(),
  /** Deploy commands of this phase (default: runbook.deploy), its values filled in. */
  deploy: z.array(CommandSpec).optional(),
  /** Feature flags enabled during this phase, each an approved action. */
  flags: z.array(FeatureFlag).optional(),
});
export type Phase = z.infer<typeof Phase>;

export const Person = z.strictObject({
  id: Id,
  name: z.string(),
  roles: z.array(Id).min(1),
  slack: z.string().optional(),
  phone: z.string().optional(),
  timezone: z.string().default('UTC'),
});
export type Person = z.infer<typeof Person>;

export const Rotation = z.strictObject({
  role: Id,
  handoff: z.enum(['daily', 'weekly']),
  /** An instant at which `people[0]` starts a shift (ISO 8601 with offset). */
  start: z.iso.datetime({ offset: true }),
  people: z.array(Id).min(1),
  /** IANA zone of the hand-off: shifts change at `start`'s wall-clock time there, across DST
   * changes. Without it, shifts are exactly 24 h / 7 d apart from `start`. */
  timezone: z.string().optional(),
  /** Someone else holds the role from `from` until `until` (swaps, sick days, holidays). */
  overrides: z
    .array(z.strictObject({ person: Id, from: z.iso.datetime({ offset: true }), until: z.iso.datetime({ offset: true }), note: z.string().optional() }))
    .default([]),
});
export type Rotation = z.infer<typeof Rotation>;

export const EscalationStep = z.strictObject({
  /** A duration after the incident opens, or the seed's "next_business_day". */
  after: z.union([Duration, z.literal('next_business_day')]),
  notify: z.array(Id).min(1),
  /** The seed says "next_business_day" for P2's last step; kept as written. */
  label: z.string().optional(),
});

export const Severity = z.strictObject({
  description: z.string(),
  steps: z.array(EscalationStep).min(1),
});

/** What a notification is about; a channel can listen to some kinds only. */
export const NotifyKind = z.enum(['gate', 'checkpoint', 'rollback', 'incident', 'escalation', 'communication', 'report', 'info']);
export type NotifyKind = z.infer<typeof NotifyKind>;

const EnvName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the name of an environment variable, e.g. CANARY_SLACK_WEBHOOK_URL');

/** Where notifications go. Secrets (URLs, tokens) are never in the plan: it names the
 * environment variables that hold them. */
export const NotifyChannel = z.strictObject({
  name: Id,
  /** webhook: JSON POST; slack: a Slack incoming-webhook payload; command: argv run with the
   * JSON on stdin. */
  type: z.enum(['webhook', 'slack', 'command']),
  urlEnv: EnvName.optional(),
  /** Sent as `Authorization: Bearer <token>` (webhook and slack). */
  tokenEnv: EnvName.optional(),
  command: z.array(z.string().min(1)).min(1).optional(),
  /** Kinds this channel gets (default: all). */
  on: z.array(NotifyKind).min(1).optional(),
  minSeverity: z.enum(['info', 'warning', 'critical']).default('info'),
  timeout: TimerDuration.default('5s'),
  retries: z.number().int().min(0).max(10).default(3),
  /** First retry after this long, doubling after each failure. */
  backoff: TimerDuration.default('1s'),
});
export type NotifyChannel = z.infer<typeof NotifyChannel>;

export const LoadTest = z.strictObject({
  name: Id,
  /** The phase (or phases) in which it may run; anywhere else the engine refuses it. */
  phase: z.union([Id, z.array(Id).min(1)]),
  engine: z.enum(['autocannon', 'artillery']),
  /** Where load goes: a loopback address, or one listed in the plan's `loadTargets`. */
  target: z.string().url(),
  /** HTTP method, headers and body of each request (autocannon). */
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  /** The seed's target, verbatim, for the audit trail only: load is only ever aimed at `target`. */
  seedTarget: z.string().min(1).optional(),
  script: z.string().optional(),
  duration: TimerDuration,
  rate: z.number().positive().optional(),
  connections: z.number().int().positive().optional(),
  /** artillery's --count: how many virtual users arrive in all (at `rate` per second). */
  count: z.number().int().positive().optional(),
  variables: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
  output: z.string().optional(),
  /** Stop after this many requests even if the duration has not run out (autocannon). */
  maxRequests: z.number().int().positive().optional(),
  pass: z
    .strictObject({
      minRequestsPerMinute: z.number().positive().optional(),
      maxP95Ms: z.number().positive().optional(),
      maxErrorRatePercent: z.number().min(0).optional(),
      maxP50Ms: z.number().positive().optional(),
      maxP99Ms: z.number().positive().optional(),
      /** Names of the phase's `benchmarks` this test is judged against (req/min or ms ones). */
      benchmarks: z.array(Id).optional(),
    })
    .default({}),
});
export type LoadTest = z.infer<typeof LoadTest>;

export const Plan = z.strictObject({
  apiVersion: z.literal('canary/v1'),
  kind: z.literal('RolloutPlan'),
  metadata: z.strictObject({
    name: Id,
    service: z.string(),
    release: z.string(),
    version: z.string(),
    previousVersion: z.string(),
    owner: z.string(),
    document: z.string().optional(),
    timezone: z.string().default('UTC'),
  }),
  target: z.strictObject({
    namespace: z.string(),
    deployment: z.string(),
    primaryRegion: Id,
    regions: z.array(Id).min(1),
    selectors: z.strictObject({
      canary: z.record(z.string(), z.string()),
      stable: z.record(z.string(), z.string()),
    }),
    /** Kubernetes: the kubeconfig context of each region (default: the current context). */
    clusters: z.record(Id, z.strictObject({ context: z.string().min(1) })).optional(),
    /** Pod label naming the region, when one cluster serves several regions (pods do not carry the
     * nodes' topology labels: the Deployment's pod template must set it). Without it, a cluster's
     * pods count for the first region it serves. */
    regionLabel: z.string().optional(),
    /** The Lease that makes one terminal the driver (coordination.k8s.io/v1). */
    lease: z
      .strictObject({ name: z.string().optional(), duration: TimerDuration.default('15s') })
      .default({ duration: '15s' }),
  }),
  traffic: z.strictObject({
    provider: z.enum(TRAFFIC_PROVIDER_KINDS),
    deploy: z.string().optional(),
    /** Each provider's settings (istio, gatewayApi, smi, nginx, argoRollouts, replicas): traffic-providers.ts. */
    ...trafficSettingsShape,
  }),
  sources: z
    .strictObject({
      prometheus: z
        .strictObject({
          url: z.string().url(),
          timeout: TimerDuration.default('5s'),
          /** A response with Prometheus `warnings` (e.g. partial data): `inconclusive` (the default)
           * makes that SLI's verdict inconclusive, `show` only shows and journals them. */
          warnings: z.enum(['inconclusive', 'show']).default('inconclusive'),
        })
        .optional(),
    })
    .default({}),
  analysis: z.strictObject({
    interval: PositiveDuration,
    window: PositiveDuration,
    /** No sample for this long: the rollout holds and says so. */
    noDataAfter: PositiveDuration,
    /** What `run --headless` does when an SLI the gate needs has had no data past noDataAfter:
     * `fail` exits 5 (a source gave nothing), `hold` exits 4 (held: a person must look). */
    onNoData: z.enum(['fail', 'hold']).default('fail'),
    /** A sample older than this is drawn as stale. */
    staleAfter: PositiveDuration,
    /** What `$track` becomes in every SLI query: the label values that mean canary and baseline
     * (e.g. `{ canary: canary, baseline: stable }` for an exporter labelling track="stable"). */
    tracks: z
      .strictObject({
        canary: z.string().min(1),
        baseline: z.string().min(1),
        /** The fleet that carries the traffic before the canary takes any: the first gate needs
         * valid, fresh answers for it (default: the `track` label of target.selectors.stable,
         * else "stable"). */
        stable: z.string().min(1).optional(),
      })
      .default({ canary: 'canary', baseline: 'baseline' }),
    /** The SLI (unit rps) that counts the canary's requests: with traffic on the canary, no gate
     * opens while its canary value is 0 (a canary that serves nothing has nothing to judge).
     * Default: the plan's only SLI with unit rps (see traffic-sli.ts). */
    trafficSli: Id.optional(),
    /** A value that is not a finite number in its SLI's range (+Inf, NaN, 120%, a negative
     * latency) is invalid data: never a pass. `hold` (the default): the rollout holds and says so;
     * `rollback`: an invalid canary value rolls the rollout back. */
    invalidData: z.enum(['hold', 'rollback']).default('hold'),
    /** Canary-versus-baseline judgment (Kayenta-style Mann-Whitney per metric). A gate opens only
     * on a `pass`; `fail` counts as a failed analysis; no data is `inconclusive`, never a pass. */
    judgment: z
      .strictObject({
        confidence: z.number().gt(0.5).lt(1).default(0.98),
        /** Samples from this far back are compared. */
        lookback: PositiveDuration.default('30m'),
        /** How often to judge (default: every analysis interval). */
        every: PositiveDuration.optional(),
        minSamples: z.number().int().min(3).default(5),
        pass: z.number().min(0).max(100).default(95),
        marginal: z.number().min(0).max(100).default(75),
        metrics: z
          .array(
            z.strictObject({
              sli: Id,
              group: Id,
              critical: z.boolean().default(false),
              /** Kayenta's effect-size tolerance as a ratio of medians canary/baseline. */
              allowedIncrease: z.number().min(1).optional(),
              allowedDecrease: z.number().positive().max(1).optional(),
            }),
          )
          .min(1),
        weights: z.record(Id, z.number().min(0)).optional(),
      })
      .optional(),
  }),
  calendar: z
    .strictObject({ holidays: z.array(z.iso.date()).default([]) })
    .default({ holidays: [] }),
  slis: z.array(Sli).min(1),
  successCriteria: z.array(Criterion).min(1),
  safetyThresholds: z.array(Criterion).default([]),
  rollback: z.strictObject({
    automatic: z.array(TripRule).default([]),
    circuitBreakers: z.array(TripRule).default([]),
    immediate: z.array(TripRule).default([]),
    /** Roles allowed to roll back, with what kind of decision each stands for. */
    authority: z
      .array(z.strictObject({ role: Id, scope: z.string(), notifyWithin: Duration.optional() }))
      .default([]),
    hook: CommandSpec.optional(),
    /** Run after every confirmed rollback; its result is part of "rolled back, confirmed". */
    validate: CommandSpec.optional(),
    /** Kubernetes: after traffic is at 0%, scale the canary Deployment (target.deployment) to 0. */
    scaleCanaryToZero: z.boolean().default(false),
  }),
  phases: z.array(Phase).min(1),
  roster: z.strictObject({
    people: z.array(Person).min(1),
    roles: z.array(z.strictObject({ id: Id, title: z.string(), slack: z.string().optional() })).min(1),
    rotations: z.array(Rotation).default([]),
    escalation: z.partialRecord(z.enum(['P0', 'P1', 'P2']), Severity),
  }),
  loadTests: z.array(LoadTest).default([]),
  /** Origins (scheme://host:port) that load tests may aim at besides loopback addresses. */
  loadTargets: z.array(z.string().url()).default([]),
  communications: z
    .strictObject({
      /** `at` is relative to the rollout start (the first gate); `template` names what to send. */
      schedule: z
        .array(z.strictObject({ at: z.string().regex(/^T[+-]\d+h$|^T-0$|^T\+0$|^T0$/, 'expected T-24h, T-0, T+6h ...'), what: z.string(), template: z.string().optional() }))
        .default([]),
      internal: z.array(z.strictObject({ audience: z.string(), channel: z.string(), cadence: z.string() })).default([]),
      /** `{{name}}` placeholders: the rollout's own values (service, phase, timeline, dashboard...)
       * or `values` below; any other name is an error. */
      templates: z.record(z.string(), z.strictObject({ subject: z.string(), body: z.string(), audience: z.string().optional() })).default({}),
      /** The monitoring dashboard link templates get as {{dashboard}}. */
      dashboard: z.string().url().optional(),
      /** Constant values for placeholders (e.g. a mail-merge field shown as [Customer Name]). */
      values: z.record(z.string(), z.string()).default({}),
    })
    .default({ schedule: [], internal: [], templates: {}, values: {} }),
  /** Channels notifications are delivered to (gate changes, checkpoints, rollbacks, incidents,
   * escalation steps, communications due). */
  notifications: z
    .strictObject({
      channels: z.array(NotifyChannel).default([]),
      /** Deliveries waiting per channel; beyond this the oldest is dropped (and reported). */
      queue: z.number().int().positive().default(100),
    })
    .optional(),
  /** After the last step reaches 100%: commands that validate the release, as written. */
  postRollout: z.strictObject({ validate: z.array(CommandSpec).min(1) }).optional(),
  /** Success metrics of the release as a whole, by kind and group. */
  kpis: Kpis.optional(),
  /** Pre- and post-deployment checklists, items as written. */
  checklists: z.array(Checklist).optional(),
  /** Stakeholder reports produced on schedule from the journal (src/plan/reports.ts). */
  reports: z.array(Report).default([]),
  /** Commands and settings the console's runbook uses (deploy steps, timeouts, secrets, logs). */
  runbook: Runbook.default({ deploy: [], timeout: '10m', secretEnv: [], logs: { since: '10m', tail: 200 } }),
});
export type Plan = z.infer<typeof Plan>;
export type PlanInput = z.input<typeof Plan>;

export type { PlanProblem } from './runbook.js';
import type { PlanProblem } from './runbook.js';

/** Checks that zod's per-field shapes cannot: references between sections and orderings. */
export function crossCheck(plan: Plan): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const sliNames = new Set(plan.slis.map((s) => s.name));
  const roles = new Set(plan.roster.roles.map((r) => r.id));
  const people = new Set(plan.roster.people.map((p) => p.id));
  const regions = new Set(plan.target.regions);
  const phaseIds = new Set<string>();
  const list = (s: Set<string>) => [...s].join(', ');

  const unique = (items: { id: string; path: (string | number)[] }[], what: string) => {
    const seen = new Set<string>();
    for (const it of items) {
      if (seen.has(it.id)) problems.push({ path: it.path, message: `duplicate ${what} "${it.id}"` });
      seen.add(it.id);
    }
  };
  unique(plan.slis.map((x, i) => ({ id: x.name, path: ['slis', i, 'name'] })), 'SLI name');
  unique(plan.roster.roles.map((x, i) => ({ id: x.id, path: ['roster', 'roles', i, 'id'] })), 'role id');
  unique(plan.roster.people.map((x, i) => ({ id: x.id, path: ['roster', 'people', i, 'id'] })), 'person id');
  unique(
    (['immediate', 'automatic', 'circuitBreakers'] as const).flatMap((g) => plan.rollback[g].map((r, i) => ({ id: r.id, path: ['rollback', g, i, 'id'] }))),
    'rollback rule id',
  );
  const checkZone = (tz: string, path: (string | number)[]) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
    } catch {
      problems.push({ path, message: `unknown time zone "${tz}"; expected an IANA name such as "UTC" or "America/New_York"` });
    }
  };
  checkZone(plan.metadata.timezone, ['metadata', 'timezone']);
  for (const r of Object.keys(plan.target.clusters ?? {}))
    if (!regions.has(r)) problems.push({ path: ['target', 'clusters', r], message: `"${r}" is not one of target.regions (${list(regions)})` });
  // The provider's settings, and each step's weight in the provider's granularity.
  const provider = kubeTrafficProvider(plan.traffic.provider);
  if (provider) {
    const settings = (plan.traffic as TrafficSettings)[provider.key as keyof TrafficSettings];
    if (!settings) problems.push({ path: ['traffic', 'provider'], message: `provider "${plan.traffic.provider}" needs its settings under traffic.${provider.key}` });
    plan.phases.forEach((ph, i) =>
      ph.steps.forEach((st, k) => {
        const refused = provider.weightRefusal(st.weight, settings);
        if (refused) problems.push({ path: ['phases', i, 'steps', k, 'weight'], message: refused });
      }),
    );
  }
  plan.roster.people.forEach((p, i) => checkZone(p.timezone, ['roster', 'people', i, 'timezone']));

  const checkSli = (sli: string | undefined, path: (string | number)[]) => {
    if (sli !== undefined && !sliNames.has(sli))
      problems.push({ path, message: `unknown SLI "${sli}"; expected one of: ${list(sliNames)}` });
  };
  plan.successCriteria.forEach((c, i) => checkSli(c.sli, ['successCriteria', i, 'sli']));
  plan.safetyThresholds.forEach((c, i) => checkSli(c.sli, ['safetyThresholds', i, 'sli']));
  problems.push(...checkThresholds(plan));
  const j = plan.analysis.judgment;
  if (j) {
    j.metrics.forEach((m, i) => checkSli(m.sli, ['analysis', 'judgment', 'metrics', i, 'sli']));
    if (j.marginal > j.pass) problems.push({ path: ['analysis', 'judgment', 'marginal'], message: `marginal ${j.marginal} must not be above pass ${j.pass}` });
    const groups = new Set(j.metrics.map((m) => m.group));
    if (j.weights) {
      for (const g of groups)
        if (!(g in j.weights)) problems.push({ path: ['analysis', 'judgment', 'weights'], message: `no weight for group "${g}"; give every group of judgment.metrics a weight (or leave weights out)` });
      for (const g of Object.keys(j.weights))
        if (!groups.has(g)) problems.push({ path: ['analysis', 'judgment', 'weights', g], message: `weight for unknown group "${g}"; groups are: ${[...groups].join(', ')}` });
    }
  }
  for (const group of ['automatic', 'circuitBreakers', 'immediate'] as const) {
    plan.rollback[group].forEach((r, i) => {
      const at = ['rollback', group, i];
      switch (r.kind) {
        case 'value':
        case 'relative':
          checkSli(r.sli, [...at, 'sli']);
          break;
        case 'signal':
          r.declaredBy?.forEach((role, j) => {
            if (!roles.has(role)) problems.push({ path: [...at, 'declaredBy', j], message: `unknown role "${role}"; expected one of: ${list(roles)}` });
          });
          break;
        case 'consecutive':
          break;
      }
    });
  }
  problems.push(...checkQueries(plan));
  problems.push(...checkTracks(plan));
  for (const p of trafficSliProblems(plan)) if (p.level === 'error') problems.push({ path: p.path, message: p.message });
  plan.rollback.authority.forEach((a, i) => {
    if (!roles.has(a.role)) problems.push({ path: ['rollback', 'authority', i, 'role'], message: `unknown role "${a.role}"; expected one of: ${list(roles)}` });
  });
  if (!regions.has(plan.target.primaryRegion))
    problems.push({ path: ['target', 'primaryRegion'], message: `primary region "${plan.target.primaryRegion}" is not in target.regions (${list(regions)})` });

  let lastWeight = 0;
  plan.phases.forEach((phase, p) => {
    if (phaseIds.has(phase.id)) problems.push({ path: ['phases', p, 'id'], message: `duplicate phase id "${phase.id}"` });
    phaseIds.add(phase.id);
    if (phase.regions !== 'all')
      phase.regions.forEach((r, i) => {
        if (!regions.has(r)) problems.push({ path: ['phases', p, 'regions', i], message: `unknown region "${r}"; expected one of: ${list(regions)}` });
      });
    phase.steps.forEach((step, s) => {
      if (p === 0 && s === 0 && step.weight <= 0)
        problems.push({ path: ['phases', p, 'steps', s, 'weight'], message: `the first step's weight must be more than 0 (it is ${step.weight}): a step at 0% sends the canary no traffic, so nothing would be judged; start at e.g. 1` });
      else if (step.weight <= lastWeight)
        problems.push({ path: ['phases', p, 'steps', s, 'weight'], message: `weights must increase: ${step.weight} follows ${lastWeight}` });
      lastWeight = Math.max(lastWeight, step.weight);
      const min = parseDuration(step.bake.min)!;
      const max = step.bake.max === undefined ? undefined : parseDuration(step.bake.max)!;
      if (max !== undefined && max < min)
        problems.push({ path: ['phases', p, 'steps', s, 'bake', 'max'], message: `bake max ${step.bake.max} is shorter than bake min ${step.bake.min}` });
    });
    // Checkpoints are measured from the start of the phase; the phase's steps bake for at most
    // the sum of their max (or min) bakes.
    const phaseSpan = phase.steps.reduce((acc, s) => acc + parseDuration(s.bake.max ?? s.bake.min)!, 0);
    phase.checkpoints.forEach((c, i) => {
      if (parseDuration(c.at)! > phaseSpan)
        problems.push({ path: ['phases', p, 'checkpoints', i, 'at'], message: `checkpoint at ${c.at} is after the end of the phase: its steps bake for at most ${formatDuration(phaseSpan)}` });
    });
    phase.approvals.forEach((a, i) => {
      if (!roles.has(a.role)) problems.push({ path: ['phases', p, 'approvals', i, 'role'], message: `unknown role "${a.role}"; expected one of: ${list(roles)}` });
    });
    phase.successCriteria?.forEach((c, i) => checkSli(c.sli, ['phases', p, 'successCriteria', i, 'sli']));
  });
  if (lastWeight !== 100) {
    const lastPhase = plan.phases.length - 1;
    const lastStep = plan.phases[lastPhase]!.steps.length - 1;
    problems.push({ path: ['phases', lastPhase, 'steps', lastStep, 'weight'], message: `the last step must reach weight 100 (it reaches ${lastWeight})` });
  }

  plan.roster.people.forEach((person, i) => {
    person.roles.forEach((r, j) => {
      if (!roles.has(r)) problems.push({ path: ['roster', 'people', i, 'roles', j], message: `unknown role "${r}"; expected one of: ${list(roles)}` });
    });
  });
  plan.roster.rotations.forEach((rot, i) => {
    if (rot.timezone !== undefined) checkZone(rot.timezone, ['roster', 'rotations', i, 'timezone']);
    rot.overrides.forEach((o, j) => {
      if (!people.has(o.person)) problems.push({ path: ['roster', 'rotations', i, 'overrides', j, 'person'], message: `unknown person "${o.person}"; expected one of: ${list(people)}` });
      if (!(Date.parse(o.until) > Date.parse(o.from))) problems.push({ path: ['roster', 'rotations', i, 'overrides', j, 'until'], message: `override ends (${o.until}) before it starts (${o.from})` });
    });
    if (!roles.has(rot.role)) problems.push({ path: ['roster', 'rotations', i, 'role'], message: `unknown role "${rot.role}"; expected one of: ${list(roles)}` });
    rot.people.forEach((id, j) => {
      if (!people.has(id)) problems.push({ path: ['roster', 'rotations', i, 'people', j], message: `unknown person "${id}"; expected one of: ${list(people)}` });
    });
  });
  for (const [sev, s] of Object.entries(plan.roster.escalation)) {
    let last = -1;
    s!.steps.forEach((step, i) => {
      const after = step.after === 'next_business_day' ? 86_400_000 : parseDuration(step.after)!;
      if (after < last) problems.push({ path: ['roster', 'escalation', sev, 'steps', i, 'after'], message: `escalation steps must be in time order: ${step.after} comes after a later step` });
      last = after;
      step.notify.forEach((r, j) => {
        if (!roles.has(r)) problems.push({ path: ['roster', 'escalation', sev, 'steps', i, 'notify', j], message: `unknown role "${r}"; expected one of: ${list(roles)}` });
      });
    });
  }
  problems.push(...checkLoadTests(plan, phaseIds));

  plan.phases.forEach((phase, p) => {
    if (phase.benchmarks)
      unique(phase.benchmarks.map((b, i) => ({ id: b.name, path: ['phases', p, 'benchmarks', i, 'name'] })), 'benchmark name');
  });
  for (const kind of ['technical', 'business'] as const) {
    for (const [group, kpis] of Object.entries(plan.kpis?.[kind] ?? {})) {
      unique(kpis.map((k, i) => ({ id: k.name, path: ['kpis', kind, group, i, 'name'] })), 'KPI name');
      kpis.forEach((k, i) => {
        const at = ['kpis', kind, group, i];
        if (typeof k.target === 'number' && k.op === undefined)
          problems.push({ path: [...at, 'target'], message: `KPI "${k.name}" has a numeric target: give it op ("<", "<=", ">", ">=" or "==") so it can be judged` });
        if (typeof k.target === 'boolean' && k.op !== undefined && k.op !== '==')
          problems.push({ path: [...at, 'op'], message: `KPI "${k.name}" has a true/false target: op can only be "==" (or left out)` });
      });
    }
  }
  const channels = plan.notifications?.channels ?? [];
  unique(channels.map((c, i) => ({ id: c.name, path: ['notifications', 'channels', i, 'name'] })), 'channel name');
  channels.forEach((c, i) => {
    const at = ['notifications', 'channels', i];
    if ((c.type === 'webhook' || c.type === 'slack') && c.urlEnv === undefined)
      problems.push({ path: at, message: `channel "${c.name}" (${c.type}) needs urlEnv: the environment variable that holds its URL (URLs are secrets, never in the plan)` });
    if (c.type === 'command' && c.command === undefined) problems.push({ path: at, message: `channel "${c.name}" (command) needs command: the program and its arguments, e.g. ["./scripts/notify.sh"]` });
    if (c.type === 'command' && c.urlEnv !== undefined) problems.push({ path: [...at, 'urlEnv'], message: `channel "${c.name}" is a command: it has no URL` });
  });
  const comms = plan.communications;
  comms.schedule.forEach((item, i) => {
    if (item.template !== undefined && !(item.template in comms.templates))
      problems.push({ path: ['communications', 'schedule', i, 'template'], message: `unknown template "${item.template}"; expected one of: ${Object.keys(comms.templates).join(', ') || '(none defined)'}` });
  });
  const known = new Set([...TEMPLATE_VALUES, ...Object.keys(comms.values)]);
  for (const [name, t] of Object.entries(comms.templates)) {
    for (const field of ['subject', 'body'] as const) {
      for (const ph of placeholders(t[field])) {
        if (!known.has(ph.name))
          problems.push({ path: ['communications', 'templates', name, field], message: `template "${name}" ${field} line ${ph.line}: unknown placeholder {{${ph.name}}}; known: ${[...known].join(', ')} (or add it to communications.values)` });
      }
    }
  }
  if (plan.checklists)
    unique(plan.checklists.map((c, i) => ({ id: c.name, path: ['checklists', i, 'name'] })), 'checklist name');
problems.push(...checkCalendar(plan), ...checkReports(plan), ...runbookProblems(plan));
  return problems;
}

/** Thresholds no SLI of their unit can cross or fail to cross (`availability >= 101`, a negative
 * latency): a criterion that can never pass (or always passes), a rule that never trips (or trips
 * at once). Each is an error at the threshold's value. */
export function checkThresholds(plan: Plan): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const units = new Map(plan.slis.map((s) => [s.name, s.unit] as const));
  const check = (sli: string, op: Op, value: number, path: (string | number)[], what: 'criterion' | 'rule') => {
    const unit = units.get(sli);
    if (unit === undefined) return; // an unknown SLI is its own error
    const how = impossibleThreshold(op, value, unit);
    if (how === null) return;
    const then =
      what === 'criterion'
        ? how === 'never' ? 'can never pass, so no gate would ever open' : 'always passes, so it judges nothing'
        : how === 'never' ? 'can never be true, so this rule would never roll back' : 'is always true, so this rule would roll back at once';
    problems.push({ path, message: `SLI "${sli}" is ${UNIT_RANGE[unit].what}: ${sli} ${op} ${value} ${then}` });
  };
  plan.successCriteria.forEach((c, i) => check(c.sli, c.op, c.value, ['successCriteria', i, 'value'], 'criterion'));
  plan.safetyThresholds.forEach((c, i) => check(c.sli, c.op, c.value, ['safetyThresholds', i, 'value'], 'criterion'));
  plan.phases.forEach((ph, p) => ph.successCriteria?.forEach((c, i) => check(c.sli, c.op, c.value, ['phases', p, 'successCriteria', i, 'value'], 'criterion')));
  for (const group of ['automatic', 'circuitBreakers', 'immediate'] as const) {
    plan.rollback[group].forEach((r, i) => {
      if (r.kind === 'value') check(r.sli, r.op, r.value, ['rollback', group, i, 'value'], 'rule');
      if (r.kind === 'relative' && r.minimum !== undefined) {
        const unit = units.get(r.sli);
        const range = unit && UNIT_RANGE[unit];
        if (range && (r.minimum < range.min || r.minimum > range.max))
          problems.push({ path: ['rollback', group, i, 'minimum'], message: `SLI "${r.sli}" is ${range.what}: minimum ${r.minimum} is a value it can never have` });
      }
    });
  }
  return problems;
}

/** Placeholders an SLI query may hold: only `$track` is ever substituted. */
const QUERY_PLACEHOLDER_RES: { re: RegExp; what: (m: RegExpMatchArray) => string }[] = [
  { re: /\$\{[^}]*\}/g, what: (m) => m[0] },
  { re: /\{\{[^}]*\}\}/g, what: (m) => m[0] },
  { re: /\$(?!track\b)([A-Za-z_]\w*)/g, what: (m) => m[0] },
];

/** PromQL that can never mean what the plan thinks: placeholders nothing substitutes, and SLI
 * queries without `$track`, whose canary and baseline columns would read the same series. */
export function checkQueries(plan: Plan): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const t = plan.analysis.tracks;
  plan.slis.forEach((sli, i) => {
    const path = ['slis', i, 'query'];
    const seen = new Set<string>();
    for (const { re, what } of QUERY_PLACEHOLDER_RES) {
      for (const m of sli.query.matchAll(re)) {
        const text = what(m);
        if (seen.has(text)) continue;
        seen.add(text);
        problems.push({ path, message: `SLI "${sli.name}": ${text} is never substituted (canary replaces only $track, with "${t.canary}", "${t.baseline}" or "${trackLabels(plan).stable}"); write the value itself` });
      }
    }
    if (!/\$track\b/.test(sli.query))
      problems.push({ path, message: `SLI "${sli.name}": the query has no $track, so canary and baseline would read the same series; select the track, e.g. {track="$track"} (analysis.tracks says which label values mean canary and baseline)` });
  });
  return problems;
}

/** The canary's label value must differ from the stable fleet's and the baseline's: with the same
 * value its queries read that fleet, the first gate's stable answers are the canary's own series,
 * and every "x baseline" rule and the judgment compare a fleet with itself (they never fire). The
 * baseline may be the stable fleet (`baseline: stable`, an exporter without a baseline deployment). */
export function checkTracks(plan: Plan): PlanProblem[] {
  const labels = trackLabels(plan);
  const t = plan.analysis.tracks;
  const stableFrom = t.stable !== undefined ? 'analysis.tracks.stable' : plan.target.selectors.stable['track'] !== undefined ? 'the track label of target.selectors.stable' : 'the default stable label';
  const out: PlanProblem[] = [];
  const path = ['analysis', 'tracks', 'canary'];
  if (labels.canary === labels.stable)
    out.push({ path, message: `the canary's label value "${labels.canary}" is the stable fleet's too (${stableFrom}): the canary's queries would read the stable fleet, which carries the traffic, so a broken canary would look healthy and every rule would watch the wrong pods; set analysis.tracks.canary to the label value the canary's pods carry (e.g. canary)` });
  if (labels.canary === labels.baseline)
    out.push({ path, message: `the canary's label value "${labels.canary}" is the baseline's too (analysis.tracks.baseline): every "x baseline" rule and the judgment would compare the canary with itself and never fire; set analysis.tracks.baseline to the label value of the comparison fleet (baseline, or stable when there is no baseline deployment)` });
  return out;
}
