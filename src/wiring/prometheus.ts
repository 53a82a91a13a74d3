// SLIs from a real Prometheus (or Thanos, Mimir, VictoriaMetrics), in real time. Loaded only when
// a command uses Prometheus: its HTTP client is not part of the console's start-up.
import type { Plan } from '../plan/schema.js';
import { UsageError } from '../commands/errors.js';
import type { CanaryEnv } from '../env.js';
import type { Clock, Source } from '../runtime/ports.js';
import type { Runtime } from '../runtime/runtime.js';
import { PrometheusClient, type PrometheusClientOptions } from '../sources/prometheus.js';
import { clientOptionsFromPlan, PrometheusSource } from '../sources/prometheus-source.js';
import { realClock, simSource, type Common, type ModeParts, type WorldValues } from './parts.js';

/** Client options from the plan, the command line and the environment. Secrets only from the
 * environment: a command line is visible to every user of the machine (ps). */
export function prometheusOptions(plan: Plan, values: WorldValues, env: CanaryEnv): PrometheusClientOptions {
  const fromPlan = clientOptionsFromPlan(plan);
  const url = values.prometheus ?? fromPlan?.url;
  if (!url) throw new UsageError('no Prometheus URL: give --prometheus <url> or set sources.prometheus.url in the plan');
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new UsageError(`--prometheus "${url}" is not an http(s) URL, e.g. http://127.0.0.1:9090`);
  }
  const headers: Record<string, string> = {};
  for (const h of values['prometheus-header'] ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UsageError(`--prometheus-header expects 'Name: value', got "${h}"`);
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  const p = env.prometheus;
  return {
    url,
    timeoutMs: fromPlan?.timeoutMs ?? 5_000,
    ...(Object.keys(headers).length ? { headers } : {}),
    ...(p.token ? { bearerToken: p.token } : {}),
    ...(p.user ? { basicAuth: { username: p.user, password: p.password ?? '' } } : {}),
    ...(values['prometheus-ca'] ? { caFile: values['prometheus-ca'] } : {}),
  };
}

/** The Prometheus source and client on a given clock; `afterStart` fetches the sparklines' history. */
export function prometheusSource(c: Common, clock: Clock): { source: Source; client: PrometheusClient; afterStart: ModeParts['afterStart']; close: () => void } {
  const client = new PrometheusClient(prometheusOptions(c.plan, c.values, c.env));
  const source = new PrometheusSource({ plan: c.plan, client, clock, periodMs: 1000 });
  return {
    source,
    client,
    // The sparklines' history (query_range), once, before the live ticks: later ticks ask only for
    // the newest point. Not when a rollout is already under way: rules would judge old points as news.
    afterStart: async (_runtime: Runtime, dispatch) => {
      if (c.resumed === null || c.resumed.state.status === 'pending') for (const e of await source.backfill(60)) dispatch(e);
    },
    close: () => client.close(),
  };
}

/** Prometheus's SLIs; the embedded world's pods and traffic. */
export async function prometheusParts(c: Common): Promise<ModeParts> {
  const clock = realClock();
  const prom = prometheusSource(c, clock);
  return {
    clock,
    sources: [simSource(c, clock, { samples: false, pods: true }), prom.source],
    traffic: c.world,
    crewRealTime: true,
    serveByDefault: true,
    afterStart: prom.afterStart,
    prometheus: prom.client,
    close: prom.close,
  };
}
