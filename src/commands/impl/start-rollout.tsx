// `canary start --rollout <name>`: an operator's console as a standby of an in-cluster rollout.
// Underneath runs the very Driver `canary drive` runs (src/cluster/driver.ts, from the same
// options: src/cluster/commands.ts driverOptions): it takes part in the Lease, and when the
// driver's Lease expires it takes it and resumes from the cluster - the same code path as a
// standby replica's. Until then the console shows the rollout as the cluster has it (the journal's
// newest state, who holds the Lease: src/cluster/standby.ts), read-only; from then on it shows
// the Driver's own runtime and drives. Quitting (q, a signal) stops the Driver cleanly: the last
// status is written and the Lease handed back, so an in-cluster replica takes over at once; if
// the console dies instead, the replica takes over once the Lease expires.
import React from 'react';
import { render } from 'ink';
import { createWriteStream, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { App } from '../../../components/App.js';
import type { Actor } from '../../engine/types.js';
import { whoIs } from '../../engine/roster.js';
import { UsageError, UserError, messageOf } from '../errors.js';
import type { ValuesOf } from '../options.js';
import { altScreen, INK_OPTIONS, requireTerminal } from '../screen.js';
import type { Ctx } from '../types.js';
import type { WORLD_OPTIONS } from '../world-options.js';
import type { ROLLOUT_OPTIONS } from '../cluster-options.js';
import { keymapOrFail } from './keymap.js';
import { keepCompiledCode } from '../../code-cache.js';

type Values = ValuesOf<typeof WORLD_OPTIONS & typeof ROLLOUT_OPTIONS>;

/** Options of the embedded world that mean nothing for a rollout on its clusters. */
const NOT_WITH_ROLLOUT = ['scenario', 'speed', 'seed', 'pods-per-region', 'no-crew', 'regress-at', 'sli-source', 'export', 'journal', 'no-journal', 'sim-http', 'load-results', 'comms-dir'] as const;

export async function runRolloutConsole(rollout: string, values: Values, ctx: Ctx): Promise<number> {
  const bad = NOT_WITH_ROLLOUT.find((k) => values[k] !== undefined);
  if (bad)
    throw new UsageError(
      bad === 'journal' || bad === 'no-journal'
        ? `--${bad} cannot be used with --rollout: the rollout's journal is the one in the cluster (canary audit verify --rollout ${rollout})`
        : `--${bad} cannot be used with --rollout: the rollout runs on its clusters, in real time, with SLIs from Prometheus`,
      'canary start',
    );
  requireTerminal('start');
  const keymap = await keymapOrFail(ctx.env);
  const { homeOf, driverOptions } = await import('../../cluster/commands.js');
  const { Driver, planOfRollout } = await import('../../cluster/driver.js');
  const { ClusterView, StandbyStore } = await import('../../cluster/standby.js');
  // --context: one name is the cluster holding the CanaryRollout (and every region's, as for
  // canary drive); region=name entries place the plan's regions.
  const homeContext = values.context?.find((c) => !c.includes('='));
  let home: Awaited<ReturnType<typeof homeOf>>;
  try {
    home = await homeOf({ kubeconfig: values.kubeconfig, context: homeContext, namespace: values.namespace }, ctx.env.vars);
  } catch (err) {
    throw new UserError(`canary start --rollout ${rollout}: ${messageOf(err)}`);
  }
  const identity = values.identity ?? `${ctx.env.user ?? 'operator'}@${hostname()}:${process.pid}`;
  const io = { out: ctx.out, err: ctx.err, journalKey: ctx.env.journalKey, prometheus: ctx.env.prometheus, env: ctx.env.vars };
  const opts = driverOptions(rollout, { ...values, context: homeContext, identity }, io, home, values.context);
  if (typeof opts === 'string') {
    home.cluster.close();
    throw new UsageError(opts, 'canary start');
  }
  // Everything a person typed is checked against the rollout's plan before this process takes part
  // in the election (a free Lease is taken at once).
  let actor: Actor;
  try {
    const { RolloutResource } = await import('../../cluster/resource.js');
    const { plan } = await planOfRollout(home.cluster, await new RolloutResource(home.cluster, home.namespace, rollout).get());
    if (values.plan) {
      const { planAndText } = await import('../../wiring/plan.js');
      if (JSON.stringify((await planAndText({ plan: values.plan })).plan) !== JSON.stringify(plan))
        throw new UserError(`--plan ${values.plan} is not the plan of CanaryRollout ${home.namespace}/${rollout} (its spec.plan): leave --plan out, the console uses the rollout's own`);
    }
    if (values.as) {
      const p = plan.roster.people.find((x) => x.id === values.as);
      if (!p) throw new UsageError(`--as ${values.as}: no such person in the plan's roster; expected one of: ${plan.roster.people.map((x) => x.id).join(', ')}`, 'canary start');
      actor = { id: p.id, name: p.name, roles: p.roles };
    } else {
      const p = whoIs(plan, 'sre-primary', Date.now()).person;
      actor = p ? { id: p.id, name: p.name, roles: p.roles } : { id: 'operator', name: 'operator' };
    }
  } catch (err) {
    home.cluster.close();
    if (err instanceof UserError) throw err;
    throw new UserError(`canary start --rollout ${rollout}: ${messageOf(err)}`);
  }
  // The Driver's JSON log lines (what canary drive prints on stdout) go to a file: the screen is the console's.
  const logDir = join(ctx.env.stateHome, 'canary');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${rollout}-console-${process.pid}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const driver = new Driver({ ...opts, health: null, out: log });
  const closeAll = async () => {
    await driver.stop().catch(() => undefined);
    home.cluster.close();
    await new Promise<void>((r) => log.end(() => r()));
  };
  try {
    await driver.start();
  } catch (err) {
    await closeAll();
    throw new UserError(`canary start --rollout ${rollout}: ${messageOf(err)}`);
  }
  const { plan } = driver.rolloutPlan!;
  const view = new ClusterView({
    home: home.cluster,
    namespace: home.namespace,
    rollout,
    plan,
    ...(ctx.env.journalKey ? { key: ctx.env.journalKey } : {}),
    holder: () => driver.lease?.holder ?? null,
    leaseProblem: () => (driver.lease?.known === false ? 'the Lease was not read yet' : null),
    traffic: () => driver.traffic,
    now: () => Date.now(),
    paused: () => driver.runtime !== null,
  });
  // The first frame shows the rollout as the cluster has it.
  await view.refresh();
  view.start();
  const store = new StandbyStore(view, () => driver.runtime);
  const leave = altScreen(ctx.out);
  let quit: () => void = () => undefined;
  let signalled: number | null = null;
  // A signal ends the console the way q does (the last status written, the Lease handed back); if
  // that cannot finish (a closed terminal, an API server gone), the process still ends, and the
  // Lease expires by itself.
  const onSignal = (code: number) => () => {
    signalled = code;
    setTimeout(() => process.exit(code), 10_000).unref();
    quit();
  };
  const handlers = [['SIGTERM', onSignal(143)], ['SIGHUP', onSignal(129)], ['SIGINT', onSignal(130)]] as const;
  for (const [sig, h] of handlers) process.once(sig, h);
  // A refusal the Driver cannot get past (a journal that does not verify, RBAC): the console ends with it.
  let fatal: Error | null = null;
  void driver.done.then((err) => {
    if (err) {
      fatal = err;
      quit();
    }
  });
  const ink = render(<App plan={plan} store={store} actor={actor} now={() => Date.now()} onQuit={() => quit()} keymap={keymap} />, INK_OPTIONS);
  keepCompiledCode('console'); // the first frame is out (src/code-cache.ts)
  quit = () => ink.unmount();
  await ink.waitUntilExit();
  const drove = store.isDriving;
  store.close();
  view.stop();
  await closeAll();
  for (const [sig, h] of handlers) process.off(sig, h);
  leave();
  const s = store.getState();
  if (fatal) throw new UserError(`canary start --rollout ${rollout}: ${(fatal as Error).message} (log: ${logFile})`);
  ctx.out.write(`canary: left the console; rollout ${home.namespace}/${rollout} ${s.status} at ${s.desiredWeight}%${s.rollback ? ` (${s.rollback.reason})` : ''}; ${drove ? 'drove it, the Lease handed back' : `${s.driver?.holder ?? 'nobody'} drives`}; log ${logFile}\n`);
  return signalled ?? 0;
}
