// What `canary drive`, `canary status <rollout>` and `canary audit verify --rollout` do, with
// their options already parsed (the command modules in src/commands/ declare the options and call
// these). Every failure a person can cause or meet is one line that says what and what to do.
import type { PrometheusClientOptions } from '../sources/prometheus.js';
import { clientOptionsFromPlan } from '../sources/prometheus-source.js';
import { KubeConfigError } from '../kube/config.js';
import { connectHome } from './connect.js';
import { Driver, type DriverOptions } from './driver.js';
import { loadClusterJournal, verifyText } from './journal.js';
import { ClusterStateError, RolloutResource, type CanaryRollout } from './resource.js';
import { printable } from '../plan/printable.js';

export interface IO {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** CANARY_JOURNAL_KEY */
  journalKey?: string | undefined;
  /** Prometheus credentials (environment only). */
  prometheus?: { token?: string | undefined; user?: string | undefined; password?: string | undefined };
  /** The environment as read (CanaryEnv.vars): kubeconfig discovery (KUBECONFIG, HOME), the
   * plan's notification URLs and tokens, and what the rollback hook and runbook commands start from. */
  env: Readonly<Record<string, string | undefined>>;
}

export interface HomeValues {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface DriveValues extends HomeValues {
  prometheus?: string | undefined;
  'prometheus-header'?: string[] | undefined;
  'prometheus-ca'?: string | undefined;
  /** host:port of /healthz, /readyz, /metrics (default 0.0.0.0:8080). */
  health?: string | undefined;
  'lease-duration'?: number | undefined;
  'renew-deadline'?: number | undefined;
  'retry-period'?: number | undefined;
  identity?: string | undefined;
  /** The war room while driving: host:port, the token hashes, TLS. */
  warroom?: string | undefined;
  tokens?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  insecure?: boolean | undefined;
}

/** What `canary drive` and a console standing by (`canary start --rollout`) both drive with: the
 * same Driver, from the same options. A string: what is wrong with them (a usage error). */
export function driverOptions(
  rollout: string,
  v: DriveValues,
  io: IO,
  home: { cluster: DriverOptions['home']; namespace: string },
  contexts: string[] | undefined = v.context ? [v.context] : undefined,
): Omit<DriverOptions, 'health'> | string {
  const headers: Record<string, string> = {};
  for (const h of v['prometheus-header'] ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) return `--prometheus-header expects 'Name: value', got "${h}"`;
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  const creds = io.prometheus ?? {};
  const prometheus = (planUrl: string | undefined): PrometheusClientOptions | null => {
    const url = v.prometheus ?? planUrl;
    if (!url) return null;
    return {
      url,
      timeoutMs: 5_000,
      ...(Object.keys(headers).length ? { headers } : {}),
      ...(creds.token ? { bearerToken: creds.token } : {}),
      ...(creds.user ? { basicAuth: { username: creds.user, password: creds.password ?? '' } } : {}),
      ...(v['prometheus-ca'] ? { caFile: v['prometheus-ca'] } : {}),
    };
  };
  return {
    home: home.cluster,
    namespace: home.namespace,
    rollout,
    kube: { ...(v.kubeconfig ? { kubeconfig: v.kubeconfig } : {}), ...(contexts?.length ? { contexts } : {}) },
    prometheus: (plan) => prometheus(clientOptionsFromPlan(plan)?.url),
    ...(v.identity ? { identity: v.identity } : {}),
    lease: {
      ...(v['lease-duration'] !== undefined ? { durationSeconds: v['lease-duration'] } : {}),
      ...(v['renew-deadline'] !== undefined ? { renewDeadlineMs: v['renew-deadline'] * 1000 } : {}),
      ...(v['retry-period'] !== undefined ? { retryMs: v['retry-period'] * 1000 } : {}),
    },
    ...(io.journalKey ? { key: io.journalKey } : {}),
    env: io.env,
  };
}

/** The cluster holding the CanaryRollout, from --kubeconfig/--context/--namespace (and the
 * environment's KUBECONFIG, as kubectl finds it). */
export function homeOf(v: HomeValues, env: IO['env']): ReturnType<typeof connectHome> {
  return connectHome({ ...(v.kubeconfig ? { kubeconfig: v.kubeconfig } : {}), ...(v.context ? { context: v.context } : {}), ...(v.namespace ? { namespace: v.namespace } : {}), env });
}

/** `canary drive <rollout>`: runs until SIGTERM/SIGINT (exit 0, lease released) or until it gives up (exit 1, why on stderr and in the log). */
export async function drive(rollout: string, v: DriveValues, io: IO): Promise<number> {
  let home: Awaited<ReturnType<typeof connectHome>>;
  try {
    home = await homeOf(v, io.env);
  } catch (err) {
    io.err.write(`canary drive: ${message(err)}\n`);
    return 1;
  }
  const opts = driverOptions(rollout, v, io, home);
  if (typeof opts === 'string') {
    io.err.write(`canary drive: ${opts}\n`);
    home.cluster.close();
    return 2;
  }
  const hp = v.health ?? '0.0.0.0:8080';
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(hp);
  if (!m) {
    io.err.write(`canary drive: --health expects host:port, e.g. 0.0.0.0:8080, got "${hp}"\n`);
    return 2;
  }
  const driver = new Driver({
    ...opts,
    health: { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) },
    ...(v.warroom && v.tokens ? { warroom: { listen: v.warroom, tokens: v.tokens, ...(v.cert ? { cert: v.cert } : {}), ...(v.key ? { key: v.key } : {}), ...(v.insecure ? { insecure: true } : {}) } } : {}),
    out: io.out,
  });
  const onSignal = (sig: NodeJS.Signals) => {
    driver.log('info', `${sig}: stopping (the last status is written, the lease released)`);
    void driver.stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    await driver.start();
  } catch (err) {
    driver.log('error', message(err));
    io.err.write(`canary drive: ${message(err)}\n`);
    await driver.stop().catch(() => undefined);
    clearInterval(keepAlive);
    home.cluster.close();
    return 1;
  }
  const why = await driver.done;
  clearInterval(keepAlive);
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  if (why) {
    io.err.write(`canary drive: ${why.message}\n`);
    await driver.stop().catch(() => undefined);
  }
  home.cluster.close();
  return why ? 1 : 0;
}

/** The CanaryRollout as `canary status <rollout>` shows it: from its status only, no driver needed. */
export function statusJson(cr: CanaryRollout): Record<string, unknown> {
  const st = cr.status ?? {};
  return {
    ...(st.summary ?? {}),
    rollout: `${cr.metadata.namespace}/${cr.metadata.name}`,
    verdict: st.verdict ?? null,
    verdictExplanation: st.verdictExplanation ?? null,
    waitingFor: st.waitingFor ?? null,
    driver: st.driver ?? null,
    journal: st.journal ?? null,
    updatedAt: st.updatedAt ?? null,
  };
}

export function statusLines(cr: CanaryRollout, now = Date.now()): string {
  const st = cr.status;
  const name = `${cr.metadata.namespace}/${cr.metadata.name}`;
  if (!st || !st.state) return `CanaryRollout ${name}: no status yet (no driver has run it; start one: canary drive ${cr.metadata.name}, or the Deployment in deploy/)\n`;
  const ago = (iso: string | undefined) => (iso ? `${Math.max(0, Math.round((now - Date.parse(iso)) / 1000))} s ago` : '?');
  const lines = [
    `Name:         ${name}`,
    `Status:       ${st.state}${st.rollback ? ` - ${st.rollback.reason}` : ''}`,
    `Phase:        ${st.phase ?? 'not started'}${st.step && st.step !== '-' ? ` (step ${st.step})` : ''}`,
    `Weight:       ${st.weight ? `${st.weight.set}% set, ${st.weight.confirmed ?? '?'}% confirmed` : '?'}`,
  ];
  for (const [c, w] of Object.entries(st.weight?.clusters ?? {})) lines.push(`                ${c}: ${w ?? '?'}%`);
  lines.push(`Verdict:      ${st.verdict}${st.verdictExplanation ? ` - ${st.verdictExplanation}` : ''}`);
  lines.push(`Waiting for:  ${st.waitingFor}`);
  if (st.checkpoint) lines.push(`Checkpoint:   ${st.checkpoint.title} (${st.checkpoint.phase}), due since ${st.checkpoint.dueAt}: press g in a joined console`);
  for (const a of st.approvals ?? []) lines.push(`Approval:     ${a.phase} ${a.role} by ${a.by} at ${a.at}`);
  for (const i of st.incidents ?? []) lines.push(`Incident:     ${i.id} ${i.severity} ${i.summary}${i.ackedBy ? ` (acknowledged by ${i.ackedBy})` : i.nextPage ? ` (next page ${i.nextPage.at}: ${i.nextPage.roles.join(', ')})` : ''}`);
  if (st.driver) lines.push(`Driver:       ${st.driver.holder} (lease epoch ${st.driver.epoch}, since ${st.driver.since})`);
  if (st.journal) lines.push(`Journal:      head seq ${st.journal.seq} ${st.journal.hash}, ${st.journal.segments} segment(s)`);
  lines.push(`Updated:      ${st.updatedAt} (${ago(st.updatedAt)})`);
  // The status is the cluster's (and its summaries people's): shown, never obeyed.
  return printable(`${lines.join('\n')}\n`, 'newline');
}

/** `canary status <rollout> [--context c] [--namespace n] [-o json]`. */
export async function clusterStatus(rollout: string, v: HomeValues & { json?: boolean | undefined }, io: IO): Promise<number> {
  try {
    const home = await homeOf(v, io.env);
    try {
      const cr = await new RolloutResource(home.cluster, home.namespace, rollout).get();
      io.out.write(v.json ? `${JSON.stringify(statusJson(cr))}\n` : statusLines(cr));
      return 0;
    } finally {
      home.cluster.close();
    }
  } catch (err) {
    io.err.write(`canary status: ${message(err)}\n`);
    return err instanceof KubeConfigError || err instanceof ClusterStateError ? 1 : 1;
  }
}

/** `canary audit verify --rollout <name>`: the journal's chain from the cluster, anchored by the status's head. */
export async function verifyRollout(rollout: string, v: HomeValues & { json?: boolean | undefined }, io: IO): Promise<number> {
  try {
    const home = await homeOf(v, io.env);
    try {
      const cr = await new RolloutResource(home.cluster, home.namespace, rollout).get();
      const head = cr.status?.journal;
      const loaded = await loadClusterJournal(home.cluster, home.namespace, rollout, {
        ...(io.journalKey ? { key: io.journalKey } : {}),
        expected: { head: head ? { seq: head.seq, hash: head.hash } : null, firstSegment: head?.firstSegment ?? 0 },
      });
      if (v.json) io.out.write(`${JSON.stringify({ ok: loaded.problems.length === 0, rollout: `${home.namespace}/${rollout}`, entries: loaded.entries.length, segments: loaded.segments.map((s) => s.name), head: loaded.head, statusHead: head ?? null, problems: loaded.problems })}\n`);
      else io.out.write(`${verifyText(home.namespace, rollout, loaded)}\n${head ? `status head: seq ${head.seq} ${head.hash} (anchors the chain: a journal cut short is caught)` : 'status head: none (no driver wrote a status yet)'}\n`);
      return loaded.problems.length ? 1 : 0;
    } finally {
      home.cluster.close();
    }
  } catch (err) {
    io.err.write(`canary audit verify: ${message(err)}\n`);
    return 1;
  }
}
