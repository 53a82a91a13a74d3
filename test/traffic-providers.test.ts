// One descriptor per traffic provider: the plan's checks and the provider made for the wiring read
// the same one, so a weight is refused by `canary validate` exactly when, and in the same words as,
// the provider would refuse it at run time.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Plan, crossCheck } from '../src/plan/schema.js';
import { loadPlanText } from '../src/plan/loader.js';
import { PROVIDERS, makeProvider } from '../src/actuators/traffic/providers.js';
import { TRAFFIC_PROVIDER_KINDS } from '../src/plan/traffic-providers.js';

const seed = parse(readFileSync(new URL('../config/maestro-conductor-rc.yaml', import.meta.url), 'utf8'));

const SETTINGS: Record<string, Record<string, unknown>> = {
  istio: { istio: { virtualService: 'orch', canary: { host: 'orch', subset: 'canary' }, stable: { host: 'orch', subset: 'stable' } } },
  'gateway-api': { gatewayApi: { httpRoute: 'orch', canaryBackend: 'orch-canary', stableBackend: 'orch-stable' } },
  smi: { smi: { trafficSplit: 'orch', canaryBackend: 'orch-canary', stableBackend: 'orch-stable' } },
  nginx: { nginx: { canaryIngress: 'orch-canary' } },
  'argo-rollouts': { argoRollouts: { rollout: 'orch' } },
  replicas: { replicas: { canaryDeployment: 'orch-canary', stableDeployment: 'orch', total: 40 } },
};

describe('traffic provider descriptors', () => {
  it('every provider the plan can name (but sim) has a descriptor that makes it', () => {
    expect(TRAFFIC_PROVIDER_KINDS).toEqual(['sim', 'istio', 'gateway-api', 'smi', 'nginx', 'argo-rollouts', 'replicas']);
    expect(Object.keys(PROVIDERS).sort()).toEqual(TRAFFIC_PROVIDER_KINDS.filter((k) => k !== 'sim').sort());
    for (const [kind, d] of Object.entries(PROVIDERS)) {
      expect(d.kind).toBe(kind);
      expect(makeProvider(kind, { namespace: 'ns', ...SETTINGS[kind] }).kind).toBe(kind);
    }
  });

  it('validate refuses per step exactly the weights the provider refuses, with its words', () => {
    const weights = [0.5, 0.05, 1, 2.5, 12.345, 33.3, 50];
    for (const kind of Object.keys(PROVIDERS)) {
      const provider = makeProvider(kind, { namespace: 'ns', ...SETTINGS[kind] });
      for (const w of weights) {
        const raw = structuredClone(seed);
        raw.traffic = { provider: kind, ...SETTINGS[kind] };
        raw.phases[0].steps[0].weight = w;
        const problems = crossCheck(Plan.parse(raw)).filter((p) => p.path.join('.') === 'phases.0.steps.0.weight').map((p) => p.message);
        const refused = provider.invalid(w);
        expect(problems, `${kind} at ${w}%`).toEqual(refused === null ? [] : [refused]);
      }
    }
    // The granularity differs by provider: whole percent, tenths, whole pods of 40, anything.
    expect(makeProvider('istio', { namespace: 'ns', ...SETTINGS.istio }).invalid(0.5)).toBe('istio route weights are whole percentages; 0.5 is not');
    expect(makeProvider('nginx', { namespace: 'ns', ...SETTINGS.nginx }).invalid(0.05)).toBe('nginx: weights are kept in tenths of a percent; 0.05 is finer');
    expect(makeProvider('replicas', { namespace: 'ns', ...SETTINGS.replicas }).invalid(1)).toBe('replicas: 1% of traffic.replicas.total (40) is 0.4 pods, not a whole number');
    expect(makeProvider('argo-rollouts', { namespace: 'ns', ...SETTINGS['argo-rollouts'] }).invalid(12.345)).toBeNull();
  });

  it('a settings typo is a file:line:col error at the key, from the descriptor schema', () => {
    const text = readFileSync(new URL('../config/maestro-conductor-rc.yaml', import.meta.url), 'utf8').replace(
      /^  provider: sim .*$/m,
      '  provider: nginx\n  nginx:\n    canaryIngres: orch-canary',
    );
    expect(text).toContain('canaryIngres');
    const r = loadPlanText(text, 'plan.yaml');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => `${e.line}:${e.col} ${e.path}`).join('\n')).toMatch(/^\d+:\d+ traffic\.nginx/m);
  });
});
