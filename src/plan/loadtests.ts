// Where load may go, checked when the plan loads (so a wrong target is a file:line error before
// anything runs) and again by the runners before the first request (defence in depth). Load goes
// only to loopback addresses or to origins the plan lists in `loadTargets`.
//
// It imports nothing from the schema (which calls `checkLoadTests` from its cross-field checks):
// the functions read only the parts of a plan described below, so the two modules form no circle.
import { parseDuration } from './duration.js';

/** The load-test parts of a plan these checks read (a `Plan` is one). */
export interface LoadTestsPlan {
  loadTargets: readonly string[];
  loadTests: readonly {
    name: string;
    phase: string | string[];
    engine: string;
    target: string;
    headers?: Record<string, string> | undefined;
    script?: string | undefined;
    duration: string;
    pass: { benchmarks?: string[] | undefined };
  }[];
  phases: readonly {
    id: string;
    benchmarks?: readonly { name: string; unit?: string | undefined }[] | undefined;
    requireLoadTests?: readonly string[] | undefined;
  }[];
}

/** A problem at a key path of the plan (the schema's `PlanProblem`). */
interface Problem {
  path: (string | number)[];
  message: string;
}

/** A load test may run at most this long: every load loop stops by itself. */
export const MAX_LOAD_TEST_MS = 3_600_000;

/** Benchmarks a load test can measure, by unit: throughput in req/min, latency (p95) in ms. */
export const MEASURABLE_BENCHMARK_UNITS = ['req/min', 'ms'] as const;

/** 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m !== null && m.slice(1).every((x) => Number(x) <= 255);
}

/** scheme://host:port of a URL, with the scheme's default port spelled out. */
export function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    const port = u.port || ({ 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' } as Record<string, string>)[u.protocol] || '';
    return `${u.protocol}//${u.hostname.toLowerCase()}:${port}`;
  } catch {
    return null;
  }
}

/** Why load may not go to `url` under this plan, or null when it may. */
export function targetRefusal(plan: Pick<LoadTestsPlan, 'loadTargets'>, url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${url}" is not a URL`;
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) return `"${url}": load goes over http(s) or ws(s) only`;
  if (isLoopbackHost(u.hostname)) return null;
  const origin = originOf(url);
  if (plan.loadTargets.some((t) => originOf(t) === origin)) return null;
  return `${url} is not a loopback address and its origin ${origin} is not declared in the plan's loadTargets; canary aims load only at 127.0.0.1/localhost or at origins listed in loadTargets`;
}

/** A Host (or :authority) header decides where a proxy or an ingress behind a loopback address
 * (a port-forward, a tunnel) sends the load: it must name the target's own host or a loadTargets
 * origin's. Null when the header is fine. */
export function hostHeaderRefusal(plan: Pick<LoadTestsPlan, 'loadTargets'>, target: string, name: string, value: unknown): string | null {
  const key = name.toLowerCase();
  if (key !== 'host' && key !== ':authority') return null;
  const host = String(value).toLowerCase();
  const allowed = new Set<string>();
  for (const u of [target, ...plan.loadTargets]) {
    try {
      const url = new URL(u);
      allowed.add(url.host.toLowerCase());
      allowed.add(url.hostname.toLowerCase());
    } catch {
      /* checked elsewhere */
    }
  }
  if (allowed.has(host)) return null;
  return `header ${name}: ${value} would send the load to another host than the target (behind a port-forward or an ingress); name the target's host, or declare that origin in loadTargets`;
}

/** The phases in which a load test may run. */
export function loadTestPhases(test: { phase: string | string[] }): string[] {
  return typeof test.phase === 'string' ? [test.phase] : test.phase;
}

export function checkLoadTests(plan: LoadTestsPlan, phaseIds: Set<string>): Problem[] {
  const problems: Problem[] = [];
  const names = new Set<string>();
  plan.loadTargets.forEach((t, i) => {
    const o = originOf(t);
    if (!o || !/^(https?|wss?):/.test(o)) problems.push({ path: ['loadTargets', i], message: `"${t}": expected an http(s) or ws(s) origin such as https://staging.example.com` });
  });
  plan.loadTests.forEach((t, i) => {
    const at = ['loadTests', i];
    if (names.has(t.name)) problems.push({ path: [...at, 'name'], message: `duplicate load test name "${t.name}"` });
    names.add(t.name);
    const phases = loadTestPhases(t);
    phases.forEach((p, j) => {
      if (!phaseIds.has(p))
        problems.push({ path: typeof t.phase === 'string' ? [...at, 'phase'] : [...at, 'phase', j], message: `unknown phase "${p}"; expected one of: ${[...phaseIds].join(', ')}` });
    });
    const refused = targetRefusal(plan, t.target);
    if (refused) problems.push({ path: [...at, 'target'], message: `load test "${t.name}": ${refused}` });
    for (const [k, v] of Object.entries(t.headers ?? {})) {
      const bad = hostHeaderRefusal(plan, t.target, k, v);
      if (bad) problems.push({ path: [...at, 'headers', k], message: `load test "${t.name}": ${bad}` });
    }
    const ms = parseDuration(t.duration) ?? 0;
    if (ms <= 0 || ms > MAX_LOAD_TEST_MS) problems.push({ path: [...at, 'duration'], message: `load test "${t.name}" must run for more than 0 and at most 1h (every load test stops by itself); got ${t.duration}` });
    if (t.engine === 'autocannon' && !/^https?:/.test(t.target))
      problems.push({ path: [...at, 'target'], message: `load test "${t.name}": autocannon speaks http(s) only; use engine: artillery for ${t.target.split(':')[0]}` });
    if (t.engine === 'artillery' && !t.script) problems.push({ path: [...at], message: `load test "${t.name}" uses artillery: give it a script (e.g. ./tests/load/production-simulation.yml)` });
    if (t.engine === 'autocannon' && t.script) problems.push({ path: [...at, 'script'], message: `load test "${t.name}": a script is for engine: artillery; autocannon takes method, headers, body` });
    const benchmarks = new Map<string, { unit?: string | undefined }>();
    for (const p of plan.phases) if (phases.includes(p.id)) for (const b of p.benchmarks ?? []) benchmarks.set(b.name, b);
    (t.pass.benchmarks ?? []).forEach((name, j) => {
      const b = benchmarks.get(name);
      const where = [...at, 'pass', 'benchmarks', j];
      if (!b) problems.push({ path: where, message: `unknown benchmark "${name}" for the phase(s) ${phases.join(', ')}; expected one of: ${[...benchmarks.keys()].join(', ') || 'none (the phase declares no benchmarks)'}` });
      else if (!MEASURABLE_BENCHMARK_UNITS.includes(b.unit as (typeof MEASURABLE_BENCHMARK_UNITS)[number]))
        problems.push({ path: where, message: `benchmark "${name}" is in ${b.unit ?? 'no unit'}: a load test measures throughput (req/min) and latency (ms) only` });
    });
  });
  plan.phases.forEach((p, i) => {
    (p.requireLoadTests ?? []).forEach((name, j) => {
      const t = plan.loadTests.find((x) => x.name === name);
      const where = ['phases', i, 'requireLoadTests', j];
      if (!t) problems.push({ path: where, message: `unknown load test "${name}"; expected one of: ${plan.loadTests.map((x) => x.name).join(', ') || 'none (loadTests is empty)'}` });
      else if (!loadTestPhases(t).includes(p.id)) problems.push({ path: where, message: `load test "${name}" may not run in ${p.id} (it runs in ${loadTestPhases(t).join(', ')}), so this gate could never open` });
    });
  });
  return problems;
}

/** Before any load, the runner asks the target who it is: `GET <origin>/.well-known/canary-target`
 * must answer with the header `x-canary-target: <the plan's metadata.name>`. The simulated service
 * answers it; a service of yours behind a loopback port-forward adds this one handler. Whatever
 * else holds the port (another process on 127.0.0.1:8080) gets no load. */
export const TARGET_IDENTITY_PATH = '/.well-known/canary-target';
export const TARGET_IDENTITY_HEADER = 'x-canary-target';

/** Where the identity of a load test's target is asked (http for ws targets). */
export function identityUrl(target: string): string | null {
  try {
    const u = new URL(target);
    const scheme = u.protocol === 'wss:' || u.protocol === 'https:' ? 'https:' : 'http:';
    return `${scheme}//${u.host}${TARGET_IDENTITY_PATH}`;
  } catch {
    return null;
  }
}
