#!/usr/bin/env node
// The embedded world's stand-in for the seed's validation commands (npm run test:production-smoke,
// ...integration-full, ...performance-regression, ...security-scan, the workflow-validate request,
// validate-rollback.sh): real HTTP requests against the simulated service canary serves on
// loopback ($CANARY_SIM_URL), judged like the real suites would be. Exit 0 pass, 1 fail, 2 cannot run.
// canary runs it with the plan's values in the environment (${WEIGHT}, ${PHASE}, ${ROLLBACK_REASON}...).
const [suite = 'smoke', ...flags] = process.argv.slice(2);
const base = process.env.CANARY_SIM_URL;
if (!base) {
  console.error('validate: $CANARY_SIM_URL is not set: the simulated service is off (canary start --sim-http off?)');
  process.exit(2);
}
const SUITES = {
  smoke: { paths: ['/healthz', '/v1/workflows'], n: 40, maxP95: 500, maxErr: 0.01, title: 'production smoke' },
  integration: { paths: ['/v1/workflows', '/v1/workflows/validate', '/v1/models/route', '/v1/policies/evaluate'], n: 80, maxP95: 800, maxErr: 0.01, title: 'integration (full)' },
  performance: { paths: ['/v1/workflows'], n: 150, maxP95: 500, maxErr: 0.005, title: 'performance regression', compare: true },
  security: { paths: ['/v1/admin', '/v1/workflows?token=x', '/v1/../etc/passwd'], n: 30, maxP95: 1000, maxErr: 1, title: 'security scan' },
  workflows: { paths: ['/v1/workflows/validate'], n: 25, maxP95: 800, maxErr: 0.01, title: 'customer workflow validation' },
  rollback: { paths: ['/healthz', '/v1/workflows'], n: 60, maxP95: 800, maxErr: 0.01, title: 'rollback verification', stableOnly: true },
};
const s = SUITES[suite];
if (!s) {
  console.error(`validate: unknown suite "${suite}"; expected one of: ${Object.keys(SUITES).join(', ')}`);
  process.exit(2);
}
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
async function one(path) {
  const t = performance.now();
  const ctl = AbortSignal.timeout(5000);
  try {
    const res = await fetch(base + path, { signal: ctl });
    await res.text();
    return { status: res.status, ms: performance.now() - t, track: res.headers.get('x-canary-track') ?? 'stable' };
  } catch (e) {
    return { status: 0, ms: performance.now() - t, track: '?', error: e.cause?.code ?? e.message };
  }
}
const p95 = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length ? a[Math.min(a.length - 1, Math.ceil(0.95 * a.length) - 1)] : 0;
};
console.log(`${s.title}: ${s.n} requests to ${base}${flags.length ? ` (${flags.join(' ')})` : ''}`);
if (process.env.ROLLBACK_REASON && suite === 'rollback') console.log(`rollback reason: ${process.env.ROLLBACK_REASON}`);
const results = [];
const batch = Math.max(1, Math.round(s.n / 5));
for (let i = 0; i < s.n; i += batch) {
  const chunk = await Promise.all(Array.from({ length: Math.min(batch, s.n - i) }, (_, k) => one(s.paths[(i + k) % s.paths.length])));
  results.push(...chunk);
  const errs = results.filter((r) => r.status === 0 || r.status >= 500).length;
  console.log(`  ${String(results.length).padStart(4)}/${s.n}  p95 ${p95(results.map((r) => r.ms)).toFixed(0)}ms  5xx/errors ${errs}`);
  await pause(150);
}
const errors = results.filter((r) => r.status === 0 || r.status >= 500);
const ratio = errors.length / results.length;
const p = p95(results.map((r) => r.ms));
const tracks = {};
for (const r of results) tracks[r.track] = (tracks[r.track] ?? 0) + 1;
console.log(`  served by: ${Object.entries(tracks).map(([t, n]) => `${t} ${n}`).join(', ')}`);
const problems = [];
if (ratio > s.maxErr) problems.push(`error rate ${(100 * ratio).toFixed(1)}% > ${(100 * s.maxErr).toFixed(1)}% (${errors[0]?.error ?? `HTTP ${errors[0]?.status}`})`);
if (p > s.maxP95) problems.push(`p95 ${p.toFixed(0)}ms > ${s.maxP95}ms`);
if (s.stableOnly && (tracks.canary ?? 0) > 0) problems.push(`${tracks.canary} requests still reached the canary`);
if (flags.includes('--check-data-integrity')) console.log('  data integrity: event store and graph checksums match (simulated)');
if (flags.includes('--confirm-customer-access')) console.log(`  customer access: ${results.filter((r) => r.status === 200).length}/${results.length} requests answered 200`);
if (problems.length) {
  console.error(`FAIL ${s.title}: ${problems.join('; ')}`);
  process.exit(1);
}
console.log(`PASS ${s.title}: p95 ${p.toFixed(0)}ms, errors ${errors.length}/${results.length}`);
