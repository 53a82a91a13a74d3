// A checklist item's query check, in real mode, against a real Prometheus on 127.0.0.1: it passes
// only when every series it returns holds (a value that is a number and not 0, measured within the
// plan's staleAfter, no warnings), never on "some series came back". Prometheus scrapes a live
// target and a dead one: `up` is 1 for the first and 0 for the second. Under CI=true a missing
// prometheus is a failure.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlanCommandRunner, queryLines, queryRulesOf } from '../src/actuators/runbook.js';
import { PrometheusClient } from '../src/sources/prometheus.js';
import type { RunCommandEffect } from '../src/runtime/ports.js';
import { loadSeedPlan } from './helpers/drive.js';
import { freePort, prometheusBinary, startPrometheus, PROMETHEUS_JOB, type PrometheusHandle } from './helpers/prometheus.js';

const plan = loadSeedPlan();
const available = prometheusBinary() !== null || Boolean(process.env.CI);
const check = (query: string): RunCommandEffect => ({ id: 1, type: 'run-command', purpose: 'check', key: 'check:monitoring#1', name: 'query', run: query, query, env: {}, timeoutMs: 5_000 });

describe.skipIf(!available)('a query check judged per the plan, against a real Prometheus', () => {
  let prom: PrometheusHandle | null = null;
  let target: Server | null = null;
  let client: PrometheusClient | null = null;
  let setupError: unknown = null;

  beforeAll(async () => {
    try {
      target = createServer((_q, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('canary_check_alive 1\n'));
      await new Promise<void>((r) => target!.listen(0, '127.0.0.1', () => r()));
      const live = `127.0.0.1:${(target.address() as AddressInfo).port}`;
      const dead = `127.0.0.1:${await freePort()}`;
      prom = await startPrometheus({ scrapeTargets: [live, dead] });
      if (!prom) throw new Error('no prometheus binary (install it: apt-get install -y prometheus)');
      client = new PrometheusClient({ url: prom.url, timeoutMs: 5_000 });
      // Both targets scraped once (up has a series for each).
      const t0 = Date.now();
      for (;;) {
        const r = await client.query(`up{job="${PROMETHEUS_JOB}"}`);
        if (r.series.length === 2) break;
        if (Date.now() - t0 > 30_000) throw new Error('prometheus never scraped both targets');
        await new Promise((r2) => setTimeout(r2, 200));
      }
    } catch (err) {
      setupError = err;
    }
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await prom?.stop();
    await new Promise<void>((r) => (target ? target.close(() => r()) : r()));
  });

  it('a series with value 0 (a target down) fails the check; the filtered query passes; an answer older than staleAfter fails', async () => {
    if (setupError) throw setupError;
    const rules = queryRulesOf(plan);
    const runner = new PlanCommandRunner({ env: {}, mode: 'real', cwd: '.', query: queryLines(client!), queryRules: rules });
    const lines: string[] = [];
    const all = await runner.run(check(`up{job="${PROMETHEUS_JOB}"}`), (l) => lines.push(...l));
    expect(all).toMatchObject({ ok: false, exitCode: 1 });
    expect(all.detail).toMatch(/^1 of 2 series do not pass: \{.*job="canary-sim".*\} value 0: the condition does not hold$/);
    expect(lines.some((l) => l.endsWith('✗ value 0: the condition does not hold'))).toBe(true);

    const up = await runner.run(check(`up{job="${PROMETHEUS_JOB}"} == 1`), () => undefined);
    expect(up).toEqual({ ok: true, exitCode: 0, detail: '1 series, each holds' });

    // The same answer judged as if it had come back long after it was evaluated.
    const late = new PlanCommandRunner({ env: {}, mode: 'real', cwd: '.', query: queryLines(client!), queryRules: rules, now: () => Date.now() + 10 * 60_000 });
    const old = await late.run(check(`up{job="${PROMETHEUS_JOB}"} == 1`), () => undefined);
    expect(old).toMatchObject({ ok: false, exitCode: 1 });
    expect(old.detail).toMatch(/old \(staleAfter 3m\)$/);
  });
});
