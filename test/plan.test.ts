import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { formatPlanError, loadPlanFile, loadPlanText } from '../src/plan/loader.js';
import type { LoadResult, PlanError } from '../src/plan/loader.js';
import { planDuration, planSummary } from '../src/plan/summary.js';
import { planJsonSchema } from '../src/plan/jsonschema.js';
import { runSchema, runValidate } from '../src/plan/commands.js';
import type { Plan } from '../src/plan/schema.js';

const REF_FILE = join(import.meta.dirname, '..', 'config', 'maestro-conductor-rc.yaml');
const REF = readFileSync(REF_FILE, 'utf8');
const FILE = 'plan.yaml';

function loadRef(): Plan {
  const r = loadPlanText(REF, REF_FILE);
  if (!r.ok) throw new Error(r.errors.map(formatPlanError).join('\n'));
  return r.plan;
}

/** 1-based line of the first occurrence of `needle` in `text` (at or after `from`). */
function lineOf(text: string, needle: string, from = 0): number {
  const i = text.indexOf(needle, from);
  if (i < 0) throw new Error(`not found: ${needle}`);
  return text.slice(0, i).split('\n').length;
}

/** 1-based column of `needle` within line `line` of `text`. */
function colOf(text: string, line: number, needle: string): number {
  const l = text.split('\n')[line - 1]!;
  const i = l.indexOf(needle);
  if (i < 0) throw new Error(`not found on line ${line}: ${needle}`);
  return i + 1;
}

/** The reference plan with one unique substring replaced; `offset` is where the edit starts. */
function edit(find: string, replace: string): { text: string; offset: number } {
  const i = REF.indexOf(find);
  if (i < 0) throw new Error(`not in the reference plan: ${find}`);
  if (REF.indexOf(find, i + 1) >= 0) throw new Error(`not unique in the reference plan: ${find}`);
  return { text: REF.slice(0, i) + replace + REF.slice(i + find.length), offset: i };
}

function errorsOf(r: LoadResult): PlanError[] {
  if (r.ok) throw new Error('expected the plan to be rejected');
  return r.errors;
}

/** Loads an edited plan and returns the one error whose message contains `fragment`. */
function errorFor(text: string, fragment: string): PlanError {
  const errors = errorsOf(loadPlanText(text, FILE));
  const hit = errors.find((e) => e.message.includes(fragment));
  if (!hit) throw new Error(`no error contains ${JSON.stringify(fragment)}; got:\n${errors.map(formatPlanError).join('\n')}`);
  return hit;
}

/** The seed documents beside the project (../shared/seed/*.txt), when they are there. */
function seedTexts(): string[] {
  const seedDir = join(import.meta.dirname, '..', '..', 'shared', 'seed');
  if (!existsSync(seedDir)) return [];
  return readdirSync(seedDir)
    .filter((n) => n.endsWith('.txt'))
    .map((f) => readFileSync(join(seedDir, f), 'utf8'));
}

/** The `key: value` lines of the seed's ```yaml block that holds `marker`, trimmed. */
function seedYamlLines(seed: string, marker: string): string[] {
  for (const m of seed.matchAll(/```yaml\n([\s\S]*?)```/g)) {
    if (!m[1]!.includes(marker)) continue;
    return m[1]!
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^\w+: \S/.test(l));
  }
  throw new Error(`no yaml block with ${marker} in the seed`);
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('the reference plan', () => {
  const plan = loadRef();
  const phase = (id: string) => plan.phases.find((p) => p.id === id)!;

  it('loads from the file without problems', () => {
    const r = loadPlanFile(REF_FILE);
    expect(r.ok ? [] : r.errors.map(formatPlanError)).toEqual([]);
  });

  it('has the seed phases, weights and bakes', () => {
    expect(plan.phases.map((p) => p.id)).toEqual(['canary-1', 'canary-5', 'canary-25', 'full']);
    expect(plan.phases.flatMap((p) => p.steps.map((s) => s.weight))).toEqual([1, 5, 25, 50, 75, 90, 100]);
    expect(phase('canary-1').steps[0]!.bake).toEqual({ min: '24h', max: '48h' });
    expect(phase('canary-5').steps[0]!.bake).toEqual({ min: '72h', max: '72h' });
    expect(phase('canary-25').steps[0]!.bake).toEqual({ min: '96h', max: '96h' });
    const full = phase('full').steps;
    expect(full.slice(0, 3).map((s) => s.bake)).toEqual([
      { min: '4h', max: '4h' },
      { min: '4h', max: '4h' },
      { min: '4h', max: '4h' },
    ]);
    expect(full[3]!.bake).toEqual({ min: '7d', max: '7d' });
    expect(phase('canary-1').maxUsers).toBe(50);
    expect(phase('canary-1').regions).toEqual(['us-east-1']);
    expect(phase('canary-25').regions).toBe('all');
  });

  it('has the go/no-go checkpoints at hours 6, 12, 24 and 48', () => {
    expect(phase('canary-1').checkpoints.map((c) => c.at)).toEqual(['6h', '12h', '24h', '48h']);
  });

  it('has the sli_targets and zero safety thresholds', () => {
    const c = Object.fromEntries(plan.successCriteria.map((x) => [x.sli, [x.op, x.value]]));
    expect(c).toEqual({
      availability: ['>=', 99.9],
      latency_p95: ['<', 500],
      error_rate: ['<', 0.1],
      workflow_success_rate: ['>', 99.5],
    });
    expect(plan.safetyThresholds.map((x) => [x.sli, x.op, x.value])).toEqual([
      ['critical_errors', '<=', 0],
      ['security_violations', '<=', 0],
      ['data_integrity_failures', '<=', 0],
      ['memory_leaks', '<=', 0],
    ]);
  });

  it('has the five automated rollback triggers', () => {
    expect(plan.rollback.automatic.map((r) => (r.kind === 'value' ? [r.id, r.sli, r.op, r.value] : [r.id, r.kind]))).toEqual([
      ['error_rate_threshold', 'error_rate', '>=', 1.0],
      ['latency_p95_threshold', 'latency_p95', '>=', 1000],
      ['availability_threshold', 'availability', '<', 99.5],
      ['customer_complaints', 'customer_complaints', '>=', 3],
      ['security_incidents', 'security_incidents', '>=', 1],
    ]);
  });

  it('has the circuit breakers and immediate rollback rules', () => {
    const cb = Object.fromEntries(plan.rollback.circuitBreakers.map((r) => [r.id, r]));
    expect(cb['consecutive_failures']).toMatchObject({ kind: 'consecutive', consecutive: 10 });
    expect(cb['error_rate_spike']).toMatchObject({ sli: 'error_rate', baselineFactor: 5 });
    expect(cb['latency_degradation']).toMatchObject({ sli: 'latency_p95', baselineFactor: 3 });
    expect(cb['availability_drop']).toMatchObject({ sli: 'availability', op: '<', value: 99.0 });
    const im = Object.fromEntries(plan.rollback.immediate.map((r) => [r.id, r]));
    expect(Object.keys(im)).toEqual(['security_breach', 'data_corruption', 'service_unavailable', 'customer_escalation']);
    expect(im['service_unavailable']).toMatchObject({ kind: 'value', for: '5m' });
    expect(im['customer_escalation']).toMatchObject({ kind: 'signal', signal: { name: 'customer_escalation', severity: 'P0' } });
    expect(plan.rollback.authority.find((a) => a.role === 'sre')?.notifyWithin).toBe('15m');
  });

  it('has the approval matrix, with the CTO on weekends and holidays for 25%', () => {
    const gates = Object.fromEntries(plan.phases.map((p) => [p.id, p.approvals.map((a) => `${a.role}:${a.when}`)]));
    expect(gates).toEqual({
      'canary-1': ['eng-lead:always', 'sre-lead:always'],
      'canary-5': ['product-lead:always', 'eng-lead:always', 'customer-success:always'],
      'canary-25': ['vp-engineering:always', 'vp-product:always', 'cto:weekend-or-holiday'],
      full: ['cto:always', 'vp-engineering:always', 'vp-product:always'],
    });
  });

  it('has the escalation matrix', () => {
    const steps = (sev: 'P0' | 'P1' | 'P2') => plan.roster.escalation[sev]!.steps.map((s) => [s.after, s.notify]);
    expect(steps('P0')).toEqual([
      ['0m', ['sre-primary', 'eng-lead']],
      ['15m', ['product-lead', 'cto']],
      ['30m', ['ceo', 'customer-success-vp']],
    ]);
    expect(steps('P1').map((s) => s[0])).toEqual(['0m', '30m', '1h']);
    expect(steps('P2').map((s) => s[0])).toEqual(['0m', '2h', 'next_business_day']);
  });

  it("keeps the seed's PromQL queries in seedQuery", () => {
    const seedQueries = [
      'rate(http_requests_total[5m])',
      'histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m]))',
      'increase(workflow_failures_total[1h])',
      'rate(safety_violations_total[5m])',
    ];
    const inPlan = new Set(plan.slis.map((s) => s.seedQuery).filter(Boolean));
    for (const q of seedQueries) expect(inPlan).toContain(q);
    // When the seed document is beside the project, its prometheus block must match too.
    const seedDir = join(import.meta.dirname, '..', '..', 'shared', 'seed');
    if (existsSync(seedDir)) {
      for (const f of readdirSync(seedDir).filter((n) => n.endsWith('.txt'))) {
        const block = /```prometheus\n([\s\S]*?)```/.exec(readFileSync(join(seedDir, f), 'utf8'));
        if (!block) continue;
        const lines = block[1]!.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
        expect(lines.sort()).toEqual([...seedQueries].sort());
      }
    }
  });

  it('sums the plan duration from the bakes', () => {
    const d = planDuration(plan);
    const h = 3_600_000;
    const monitor = plan.phases.reduce((acc, p) => acc + (p.monitor ? Number.parseInt(p.monitor, 10) * 24 * h : 0), 0);
    expect(d.monitor).toBe(monitor);
    // 24h + 72h + 96h + 3 x 4h + 7d at least; 48h instead of 24h at most.
    expect(d.min).toBe((24 + 72 + 96 + 12 + 7 * 24) * h + monitor);
    expect(d.max).toBe((48 + 72 + 96 + 12 + 7 * 24) * h + monitor);
  });

  it("has the seed's phase 3 performance benchmarks on canary-25", () => {
    const b = phase('canary-25').benchmarks ?? [];
    expect(b.map((x) => [x.name, x.op, x.value, x.unit])).toEqual([
      ['concurrent_workflows', '>=', 10000, 'workflows'],
      ['api_throughput', '>=', 50000, 'req/min'],
      ['model_inference_latency', '<', 200, 'ms'],
      ['graph_query_performance', '<', 100, 'ms'],
      ['federated_learning_rounds', '>=', 24, 'rounds/day'],
    ]);
    // The load tests' pass criteria stay as they were, and agree with the benchmarks.
    const sim = plan.loadTests.find((t) => t.name === 'production-simulation')!;
    expect(sim.pass).toEqual({ minRequestsPerMinute: 50000, maxP95Ms: 200 });
    for (const seed of seedTexts()) expect(b.map((x) => x.seed)).toEqual(seedYamlLines(seed, 'phase3_benchmarks:'));
    expect(plan.phases.filter((p) => p.benchmarks).map((p) => p.id)).toEqual(['canary-25']);
  });

  it("keeps the seed's load-test targets verbatim but aims load only at loopback", () => {
    const t = Object.fromEntries(plan.loadTests.map((x) => [x.name, x]));
    expect(t['production-simulation']!.seedTarget).toBe('https://api.maestro-conductor.com');
    expect(t['streaming-metrics']!.seedTarget).toBe('wss://api.maestro-conductor.com/ws');
    for (const x of plan.loadTests) expect(new URL(x.target).hostname, x.name).toMatch(/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/);
    expect(t['production-simulation']).toMatchObject({
      engine: 'artillery',
      script: './tests/load/production-simulation.yml',
      variables: { canary_weight: 25 },
      output: 'phase3-load-test.json',
    });
    expect(t['streaming-metrics']).toMatchObject({ engine: 'artillery', script: './tests/load/streaming-metrics.yml', count: 1000, rate: 10 });
    for (const seed of seedTexts()) {
      expect(seed).toContain(`--target ${t['production-simulation']!.seedTarget} \\`);
      expect(seed).toContain(`--target ${t['streaming-metrics']!.seedTarget} \\`);
    }
  });

  it("has the seed's technical and business KPIs, machine-readable", () => {
    const k = plan.kpis!;
    const flat = (['technical', 'business'] as const).flatMap((kind) =>
      Object.entries(k[kind] ?? {}).flatMap(([group, list]) => list.map((x) => ({ kind, group, ...x }))),
    );
    const by = Object.fromEntries(flat.map((x) => [x.name, x]));
    expect(flat).toHaveLength(16);
    expect(Object.keys(k.technical!)).toEqual(['deployment_success', 'operational_excellence']);
    expect(Object.keys(k.business!)).toEqual(['customer_satisfaction', 'product_metrics']);
    expect(by['zero_downtime']).toMatchObject({ target: true });
    expect(by['zero_downtime']!.op).toBeUndefined();
    expect(by['performance_regression']).toMatchObject({ op: '<', target: 5, unit: 'percent' });
    expect(by['rollback_incidents']).toMatchObject({ op: '==', target: 0 });
    expect(by['sla_compliance']).toMatchObject({ group: 'operational_excellence', op: '>=', target: 99.95, seed: 'sla_compliance: 99.95%' });
    expect(by['nps_score_delta']).toMatchObject({ op: '>=', target: 5, seed: 'nps_score_delta: +5' });
    expect(by['workflow_completion_rate']).toMatchObject({ group: 'product_metrics', op: '>', target: 99.8 });
    expect(by['api_adoption_velocity']).toMatchObject({ op: '>=', target: 40, seed: 'api_adoption_velocity: 40% increase' });
    expect(flat.map((x) => x.target)).toEqual([true, 5, 80, 0, 25, 40, 95, 99.95, 5, 20, 30, 15, 99.8, 40, 60, 95]);
    for (const x of flat) {
      // Every KPI's seed line is "name: text", and a number in the text is the target.
      expect(x.seed!.startsWith(`${x.name}: `), x.name).toBe(true);
      if (typeof x.target === 'number') expect(x.seed!.replace(/[^\d.]+/g, ' ').trim(), x.name).toBe(String(x.target));
    }
    for (const seed of seedTexts()) {
      const lines = [...seedYamlLines(seed, 'deployment_success:'), ...seedYamlLines(seed, 'customer_satisfaction:')];
      expect(flat.map((x) => x.seed).sort()).toEqual(lines.sort());
    }
  });

  it('has the post-rollout validation commands and the rollback validation, verbatim', () => {
    const run = (c: string | { run: string }) => (typeof c === 'string' ? c : c.run);
    expect(plan.postRollout?.validate.map(run)).toEqual([
      'npm run test:production-smoke',
      'npm run test:integration-full',
      'npm run test:performance-regression',
      'npm run test:security-scan',
      'curl -X POST https://api.maestro-conductor.com/v1/workflows/validate -H "Authorization: Bearer ${VALIDATION_TOKEN}" -d @customer-workflows.json',
    ]);
    expect(run(plan.rollback.validate!)).toBe(
      './scripts/validate-rollback.sh --check-data-integrity --verify-service-health --confirm-customer-access',
    );
    expect(run(plan.rollback.hook!)).toBe('./scripts/emergency-rollback.sh --version ${PREVIOUS_STABLE_VERSION} --reason "${ROLLBACK_REASON}" --notify-stakeholders');
    // Every one has a stand-in for the embedded world.
    for (const c of [...plan.postRollout!.validate, plan.rollback.validate!, plan.rollback.hook!]) expect(typeof c === 'string' ? undefined : c.sim).toBeDefined();
  });

  it('has the pre-deployment checklist and post-deployment actions, items verbatim', () => {
    const c = plan.checklists ?? [];
    expect(c.map((x) => [x.name, x.items.length])).toEqual([
      ['Pre-deployment: Infrastructure Readiness', 6],
      ['Pre-deployment: Monitoring & Observability', 6],
      ['Pre-deployment: Security & Compliance', 6],
      ['Post-deployment Week 1: Stabilization', 4],
      ['Post-deployment Week 2-4: Optimization', 4],
      ['Post-deployment Month 1: Retrospective', 4],
    ]);
    const text = (i: string | { text: string }) => (typeof i === 'string' ? i : i.text);
    expect(c[0]!.items).toContain('Neo4j graph database performance benchmarked');
    for (const seed of seedTexts()) {
      const boxes = [...seed.matchAll(/^- \[ \] (.+)$/gm)].map((m) => m[1]!);
      expect(c.flatMap((x) => x.items.map(text))).toEqual(boxes);
    }
    // The pre-deployment ones are before the 1% gate.
    expect(phase('canary-1').checklists).toEqual(['infrastructure', 'monitoring', 'security']);
    expect(c.slice(0, 3).map((x) => x.id)).toEqual(['infrastructure', 'monitoring', 'security']);
  });

  it('has the customer selection criteria, the communication plan and the phase notes', () => {
    expect(phase('canary-5').selection).toEqual([
      'Active API usage >1000 requests/day',
      'Established integration patterns',
      'Dedicated support channel',
      'Signed canary participation agreement',
    ]);
    expect(plan.communications.schedule.map((x) => x.at)).toEqual(['T-24h', 'T-0', 'T+6h', 'T+24h', 'T+72h']);
    expect(plan.communications.internal.map((x) => x.audience)).toEqual(['Engineering', 'Product', 'Customer Success', 'Executive']);
    const n1 = phase('canary-1').notes;
    expect(n1).toContain('Core Service Health: Database connection pool stability');
    expect(n1).toContain('Safety Guardrails: Authorization policy enforcement');
    expect(n1.filter((n) => /^(Core Service Health|Workflow Execution|Safety Guardrails): /.test(n))).toHaveLength(12);
    expect(phase('canary-25').flags?.map((f) => f.title)).toEqual([
      'Gradual enablement of advanced features',
      'A/B testing for UI changes',
      'Progressive ML model deployment',
      'Federated learning experiment rollout',
    ]);
    expect(phase('full').notes).toContain('Week 1 monitoring intensification: Customer success proactive outreach');
  });

  it('summarizes on one screen', () => {
    const s = planSummary(plan);
    const lines = s.split('\n');
    expect(lines.length).toBeLessThanOrEqual(40);
    for (const l of lines) expect([...l].length, l).toBeLessThanOrEqual(100);
    expect(s).toContain('Maestro Conductor vNext');
    expect(s).toContain('1%');
    expect(s).toContain('50% → 75% → 90% → 100%');
    expect(s).toContain('bake 24h–48h');
    expect(s).toContain('go/no-go at 6h 12h 24h 48h');
    expect(s).toContain('CTO (weekend/holiday)');
    expect(s).toContain('5 automatic, 4 circuit breakers, 4 immediate');
    expect(s).toMatch(/P0 Service Down: 0m \/ 15m \/ 30m/);
    expect(s).toContain('3 tests');
    expect(s).toContain('11 people');
    expect(s).toContain('benchmarks: >= 10000 workflows, >= 50000 req/min, < 200 ms, < 100 ms, >= 24 rounds/day');
    expect(s).toContain('selection: 4 criteria');
    expect(s).toContain('post      5 validation commands');
    expect(s).toContain('kpis      16 in 4 groups (technical 8, business 8)');
    expect(s).toContain('checklist 6 lists, 30 items');
  });
});

describe('bad plans are reported at the exact line and column', () => {
  it('YAML syntax: an unclosed quote points at the opening quote', () => {
    const { text } = edit('title: "Canary 5%: early adopters"', 'title: "Canary 5%: early adopters');
    const line = lineOf(text, 'title: "Canary 5%');
    const e = errorFor(text, 'unclosed quote');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, '"'), '']);
  });

  it('YAML syntax: bad indentation', () => {
    const { text } = edit('    features: Core orchestration only', '      features: Core orchestration only');
    const e = errorsOf(loadPlanText(text, FILE))[0]!;
    expect(e.line).toBe(lineOf(text, '      features: Core'));
    expect(e.message).toContain('indentation');
  });

  it('YAML syntax: a tab used for indentation', () => {
    const { text } = edit('  deployment: orchestrator', '\tdeployment: orchestrator');
    const e = errorsOf(loadPlanText(text, FILE))[0]!;
    expect([e.line, e.col]).toEqual([lineOf(text, '\tdeployment'), 1]);
    expect(e.message).toContain('tab');
  });

  it('a duplicate key points at the second occurrence', () => {
    const { text } = edit('    audience: Internal teams only\n', '    audience: Internal teams only\n    audience: Everyone\n');
    const line = lineOf(text, 'audience: Everyone');
    const e = errorFor(text, 'duplicate key "audience"');
    expect([e.line, e.col]).toEqual([line, 5]);
  });

  it('an unknown key (typo) points at the key and lists the allowed keys', () => {
    const { text } = edit('{ weight: 5, bake:', '{ weight: 5, bakee:');
    const line = lineOf(text, 'bakee:');
    const e = errorFor(text, 'unknown key "bakee"');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, 'bakee'), 'phases[1].steps[0].bakee']);
    expect(e.message).toContain('unknown key "bakee"; expected one of: weight, bake, auto');
    expect(e.message).toContain('did you mean "bake"?');
    // The missing `bake` is reported too, at the step's mapping.
    expect(errorFor(text, 'missing key "bake"')).toMatchObject({ line, col: colOf(text, line, '{') });
  });

  it('a typo in a KPI points at the key, in its group', () => {
    const { text } = edit('{ name: sla_compliance, op: ">=", target:', '{ name: sla_compliance, op: ">=", tagret:');
    const line = lineOf(text, 'tagret:');
    const e = errorFor(text, 'unknown key "tagret"');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, 'tagret'), 'kpis.technical.operational_excellence[3].tagret']);
    expect(e.message).toContain('did you mean "target"?');
    expect(errorFor(text, 'missing key "target"')).toMatchObject({ line, col: colOf(text, line, '{') });
  });

  it('a typo in a benchmark points at the key', () => {
    const { text } = edit('{ name: api_throughput, op: ">=", value:', '{ name: api_throughput, op: ">=", valeu:');
    const line = lineOf(text, 'valeu:');
    const e = errorFor(text, 'unknown key "valeu"');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, 'valeu'), 'phases[2].benchmarks[1].valeu']);
  });

  it('a misspelt new section is an unknown top-level key', () => {
    const { text } = edit('\npostRollout:\n', '\npostRollot:\n');
    const line = lineOf(text, 'postRollot:');
    const e = errorFor(text, 'unknown key "postRollot"');
    expect([e.line, e.col, e.path]).toEqual([line, 1, 'postRollot']);
    expect(e.message).toContain('did you mean "postRollout"?');
  });

  it('a numeric KPI target without op', () => {
    const { text } = edit('{ name: workflow_completion_rate, op: ">", target:', '{ name: workflow_completion_rate, target:');
    const line = lineOf(text, 'name: workflow_completion_rate');
    const e = errorFor(text, 'KPI "workflow_completion_rate" has a numeric target');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, '99.8'), 'kpis.business.product_metrics[0].target']);
  });

  it('a wrong type says what was found', () => {
    const { text } = edit('{ weight: 5,', '{ weight: five,');
    const line = lineOf(text, 'weight: five');
    const e = errorFor(text, 'got string "five"');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, 'five'), 'phases[1].steps[0].weight']);
    expect(e.message).toContain('a number');
  });

  it('a weight above 100', () => {
    const { text } = edit('{ weight: 25,', '{ weight: 125,');
    const line = lineOf(text, 'weight: 125');
    const e = errorFor(text, 'got number 125');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, '125'), 'phases[2].steps[0].weight']);
    expect(e.message).toContain('0 to 100');
  });

  it('a negative weight', () => {
    const { text } = edit('{ weight: 1,', '{ weight: -1,');
    const line = lineOf(text, 'weight: -1');
    const e = errorFor(text, 'got number -1');
    expect([e.line, e.col]).toEqual([line, colOf(text, line, '-1')]);
    expect(e.message).toContain('0 to 100');
  });

  it('weights that do not increase', () => {
    const { text } = edit('{ weight: 75,', '{ weight: 45,');
    const line = lineOf(text, 'weight: 45');
    const e = errorFor(text, 'weights must increase: 45 follows 50');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, '45'), 'phases[3].steps[1].weight']);
  });

  it('the last step must reach 100', () => {
    const { text } = edit('{ weight: 100,', '{ weight: 95,');
    const line = lineOf(text, 'weight: 95');
    expect(errorFor(text, 'must reach weight 100')).toMatchObject({ line, col: colOf(text, line, '95') });
  });

  it('a duration that is not one', () => {
    const { text } = edit('min: 24h', 'min: 24 hours');
    const line = lineOf(text, '24 hours');
    const e = errorFor(text, 'got string "24 hours"');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, '24 hours'), 'phases[0].steps[0].bake.min']);
    expect(e.message).toContain('expected a duration');
  });

  it('a bake max shorter than its min', () => {
    const { text } = edit('{ weight: 5, bake: { min: 72h, max: 72h } }', '{ weight: 5, bake: { min: 72h, max: 48h } }');
    const line = lineOf(text, 'min: 72h, max: 48h');
    const e = errorFor(text, 'bake max 48h is shorter than bake min 72h');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, '48h }'), 'phases[1].steps[0].bake.max']);
  });

  it('an unknown role in approvals', () => {
    const { text } = edit('{ role: sre-lead }', '{ role: sre-leed }');
    const line = lineOf(text, 'sre-leed');
    const e = errorFor(text, 'unknown role "sre-leed"');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, 'sre-leed'), 'phases[0].approvals[1].role']);
    expect(e.message).toContain('sre-lead');
  });

  it('an unknown SLI in a success criterion', () => {
    const { text } = edit('{ sli: latency_p95, op: "<", value: 500', '{ sli: latency_p99, op: "<", value: 500');
    const line = lineOf(text, 'latency_p99');
    const e = errorFor(text, 'unknown SLI "latency_p99"');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, 'latency_p99'), 'successCriteria[1].sli']);
  });

  it('an unknown region in a phase', () => {
    const { text } = edit('regions: [us-east-1, us-west-2]', 'regions: [us-east-1, ap-south-1]');
    const line = lineOf(text, 'ap-south-1');
    const e = errorFor(text, 'unknown region "ap-south-1"');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, 'ap-south-1'), 'phases[1].regions[1]']);
  });

  it('a comparison operator that is not one', () => {
    const { text } = edit('{ sli: availability, op: ">=", value: 99.9', '{ sli: availability, op: "=>", value: 99.9');
    const line = lineOf(text, '"=>"');
    const e = errorFor(text, 'got string "=>"');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, '"=>"'), 'successCriteria[0].op']);
    expect(e.message).toContain('expected one of: "<", "<=", ">", ">=", "=="');
  });

  it("a missing required key points at the mapping that lacks it", () => {
    const { text } = edit('    title: "Canary 5%: early adopters"\n', '');
    const line = lineOf(text, '- id: canary-5');
    const e = errorFor(text, 'missing key "title"');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, 'id:'), 'phases[1].title']);
  });

  it("a checkpoint after the end of the phase's bake", () => {
    const { text } = edit('{ at: 48h, title', '{ at: 72h, title');
    const line = lineOf(text, 'at: 72h');
    const e = errorFor(text, 'checkpoint at 72h is after');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, '72h'), 'phases[0].checkpoints[3].at']);
  });

  it('an unknown person in a rotation', () => {
    const { text } = edit('people: [ana, ben, chloe]', 'people: [ana, bob, chloe]');
    const line = lineOf(text, 'bob');
    const e = errorFor(text, 'unknown person "bob"');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, 'bob'), 'roster.rotations[0].people[1]']);
  });

  it('a region list that is neither "all" nor a list', () => {
    const { text } = edit('regions: [us-east-1]\n', 'regions: 5\n');
    const line = lineOf(text, 'regions: 5');
    const e = errorFor(text, 'got number 5');
    expect([e.line, e.col]).toEqual([line, colOf(text, line, '5')]);
    expect(e.message).toContain('expected "all" or a list');
  });

  it('a number where text is expected suggests quoting it', () => {
    const { text } = edit('  version: rc ', '  version: 1.10 ');
    const line = lineOf(text, 'version: 1.10');
    const e = errorFor(text, 'got number 1.1');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, '1.10'), 'metadata.version']);
    expect(e.message).toContain('"1.10" in quotes');
  });

  it('errors are sorted by line and column', () => {
    let { text } = edit('{ role: sre-lead }', '{ role: sre-leed }');
    text = text.replace('{ weight: 5,', '{ weight: five,').replace('provider: sim ', 'provider: simm ');
    const errors = errorsOf(loadPlanText(text, FILE));
    expect(errors.length).toBe(2); // zod problems only; cross-checks wait until the shapes are right
    const keys = errors.map((e) => e.line * 1000 + e.col);
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
    expect(errors[0]!.path).toBe('traffic.provider');
  });

  it('a file that does not exist', () => {
    const r = loadPlanFile('/nonexistent/dir/plan.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.unreadable).toBe(true);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.message).toMatch(/^cannot read: ENOENT/);
    expect(formatPlanError(r.errors[0]!)).toMatch(/^\/nonexistent\/dir\/plan\.yaml: cannot read: ENOENT/);
  });

  it('an empty file, a comment-only file and a non-mapping', () => {
    for (const t of ['', '\n\n', '# just a comment\n']) {
      const e = errorsOf(loadPlanText(t, FILE));
      expect(e).toHaveLength(1);
      expect(e[0]).toMatchObject({ line: 1, col: 1, path: '' });
      expect(e[0]!.message).toContain('empty');
    }
    const list = errorsOf(loadPlanText('# a list\n- a\n- b\n', FILE));
    expect(list[0]).toMatchObject({ line: 2, col: 1 });
    expect(list[0]!.message).toContain('top level is a list');
  });

  it('formats errors as file:line:col: path: message', () => {
    const { text } = edit('{ weight: 5,', '{ weight: five,');
    const line = lineOf(text, 'weight: five');
    const e = errorFor(text, 'five');
    expect(formatPlanError(e)).toBe(`${FILE}:${line}:${colOf(text, line, 'five')}: phases[1].steps[0].weight: ${e.message}`);
    expect(formatPlanError({ file: 'a.yaml', line: 3, col: 7, path: '', message: 'oops' })).toBe('a.yaml:3:7: oops');
  });

  it('never throws, whatever the text', () => {
    for (const t of ['{', '[1, 2', 'a: *nope', ': :', '---\na: 1\n---\nb: 2\n', 'apiVersion: canary/v1\n', '\u0000\u0001']) {
      const r = loadPlanText(t, FILE);
      expect(r.ok).toBe(false);
      if (!r.ok) for (const e of r.errors) expect(e.line).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('canary validate and canary schema', () => {
  it('validate: the reference plan is valid', () => {
    const out = sink();
    const err = sink();
    expect(runValidate(REF_FILE, out.stream, err.stream)).toBe(0);
    expect(err.text()).toBe('');
    expect(out.text()).toContain('50% → 75% → 90% → 100%');
    expect(out.text()).toMatch(/canary-1 +1%/);
    expect(out.text()).toContain(`✓ ${REF_FILE} is a valid plan`);
  });

  it('validate says who can stop the rollout and how (issue 15 item 11)', () => {
    const out = sink();
    expect(runValidate(REF_FILE, out.stream, sink().stream)).toBe(0);
    const text = out.text();
    expect(text).toContain('who can stop the rollout, and how:');
    expect(text).toContain('roll back (R y, or canary rollback): SRE, Engineering Lead, Product Manager, CTO');
    expect(text).toMatch(/signal customer_escalation P0 \(rule customer_escalation, a war-room signal; rolls back at once\): .*VP Customer Success, Customer Success/);
    expect(text).toContain('canary itself: 12 rule(s) on the data roll back; invalid data holds the gates');
  });

  it('validate: a bad plan lists each problem and returns 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canary-plan-'));
    try {
      const file = join(dir, 'bad.yaml');
      const { text } = edit('{ role: sre-lead }', '{ role: sre-leed }');
      writeFileSync(file, text.replace('people: [ana, ben, chloe]', 'people: [ana, bob, chloe]'));
      const out = sink();
      const err = sink();
      expect(runValidate(file, out.stream, err.stream)).toBe(1);
      const lines = err.text().trimEnd().split('\n');
      const line = lineOf(text, 'sre-leed');
      expect(lines[0]!.startsWith(`${file}:${line}:${colOf(text, line, 'sre-leed')}: phases[0].approvals[1].role: unknown role "sre-leed"`)).toBe(true);
      expect(lines[1]).toContain('unknown person "bob"');
      expect(lines[2]).toBe(`✗ 2 problems in ${file}`);
      expect(out.text()).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validate: an unreadable file returns 2', () => {
    const err = sink();
    expect(runValidate('/nonexistent/plan.yaml', sink().stream, err.stream)).toBe(2);
    expect(err.text()).toContain('cannot read: ENOENT');
  });

  it('schema: prints JSON Schema that the reference plan satisfies', () => {
    const out = sink();
    expect(runSchema(out.stream)).toBe(0);
    const schema = JSON.parse(out.text()) as Record<string, unknown>;
    expect(out.text()).toContain('\n  "$schema"');
    expect(schema['$schema']).toMatch(/json-schema\.org/);
    expect(schema['title']).toBeTruthy();
    expect(schema['required']).toEqual(
      expect.arrayContaining(['apiVersion', 'kind', 'metadata', 'target', 'traffic', 'analysis', 'slis', 'successCriteria', 'rollback', 'phases', 'roster']),
    );
    expect(schema).toEqual(planJsonSchema());
    const data = parseYaml(REF) as unknown;
    expect(jsonSchemaErrors(schema, data)).toEqual([]);
    // and it catches the plain mistakes
    expect(jsonSchemaErrors(schema, parseYaml(edit('{ weight: 5, bake:', '{ weight: 5, bakee:').text))).not.toEqual([]);
    expect(jsonSchemaErrors(schema, parseYaml(edit('min: 24h', 'min: 24 hours').text))).toEqual([
      '/phases/0/steps/0/bake/min: pattern',
    ]);
  });
});

/** A small JSON Schema checker: enough of draft 2020-12 for what zod emits for the plan. */
function jsonSchemaErrors(schema: unknown, value: unknown, at = ''): string[] {
  if (schema === true || schema === undefined) return [];
  if (schema === false) return [`${at}: false`];
  const s = schema as Record<string, any>;
  const errors: string[] = [];
  const type = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
  if (s['type']) {
    const types: string[] = Array.isArray(s['type']) ? s['type'] : [s['type']];
    const t = type(value);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) return [`${at}: type ${t} is not ${types.join('|')}`];
  }
  if ('const' in s && s['const'] !== value) errors.push(`${at}: const`);
  if (s['enum'] && !s['enum'].includes(value)) errors.push(`${at}: enum`);
  if (typeof value === 'string' && s['pattern'] && !new RegExp(s['pattern'], 'u').test(value)) errors.push(`${at}: pattern`);
  if (typeof value === 'number') {
    if (s['minimum'] !== undefined && value < s['minimum']) errors.push(`${at}: minimum`);
    if (s['maximum'] !== undefined && value > s['maximum']) errors.push(`${at}: maximum`);
    if (s['exclusiveMinimum'] !== undefined && value <= s['exclusiveMinimum']) errors.push(`${at}: exclusiveMinimum`);
  }
  if (Array.isArray(value)) {
    if (s['minItems'] !== undefined && value.length < s['minItems']) errors.push(`${at}: minItems`);
    value.forEach((v, i) => errors.push(...jsonSchemaErrors(s['items'], v, `${at}/${i}`)));
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const r of s['required'] ?? []) if (!(r in obj)) errors.push(`${at}: required ${r}`);
    for (const [k, v] of Object.entries(obj)) {
      if (s['propertyNames']) errors.push(...jsonSchemaErrors(s['propertyNames'], k, `${at}/${k}(key)`));
      if (s['properties'] && k in s['properties']) errors.push(...jsonSchemaErrors(s['properties'][k], v, `${at}/${k}`));
      else if (s['additionalProperties'] !== undefined) errors.push(...jsonSchemaErrors(s['additionalProperties'], v, `${at}/${k}`));
    }
  }
  if (s['anyOf'] && !s['anyOf'].some((o: unknown) => jsonSchemaErrors(o, value, at).length === 0)) errors.push(`${at}: anyOf`);
  if (s['oneOf'] && s['oneOf'].filter((o: unknown) => jsonSchemaErrors(o, value, at).length === 0).length !== 1) errors.push(`${at}: oneOf`);
  if (s['allOf']) for (const o of s['allOf']) errors.push(...jsonSchemaErrors(o, value, at));
  return errors;
}
