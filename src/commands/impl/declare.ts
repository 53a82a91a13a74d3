// `canary declare`: one incident declaration over the war room's socket, then exit.
import { compile } from '../../engine/compiled.js';
import { incidentKinds } from '../../engine/people.js';
import type { IncidentSeverity, RolloutState } from '../../engine/types.js';
import { joinRoom } from '../../warroom/commands.js';
import { declareProblem, declareRemote } from '../../warroom/declare.js';
import { serverPlan } from '../../wiring/plan.js';
import { UsageError, UserError, messageOf } from '../errors.js';
import type { Ctx } from '../types.js';

export async function declare(
  url: string,
  values: { 'token-file'?: string | undefined; ca?: string | undefined; kind?: string | undefined; severity?: string | undefined; summary?: string | undefined },
  ctx: Ctx,
): Promise<number> {
  if (!values.kind) throw new UsageError("--kind: which incident kind (one of the plan's immediate kinds, or other)");
  if (!values.summary) throw new UsageError('--summary: say in one line what is happening');
  let store: Awaited<ReturnType<typeof joinRoom>>;
  try {
    // One shot: a server that is not there is an answer, not something to wait for.
    store = await joinRoom(url, { tokenFile: values['token-file'], token: ctx.env.token, ca: values.ca, reconnect: false });
  } catch (err) {
    throw new UserError(messageOf(err));
  }
  try {
    const plan = serverPlan(store.planText, url, {});
    if (!store.you?.canAct) throw new UserError(`${store.you?.name ?? 'this token'} has a view-only token: a viewer cannot declare an incident`);
    const req = { kind: values.kind, severity: values.severity as IncidentSeverity | undefined, summary: values.summary };
    const problem = declareProblem(plan, req);
    if (problem) throw new UsageError(problem);
    const rolledBefore = store.getState().rollback;
    const r = await declareRemote(store, plan, req);
    (r.ok ? ctx.out : ctx.err).write(`canary: ${r.ok ? '' : '✗ '}${r.text}\n`);
    // An immediate kind rolls back in the same event: say so once the server's state shows it
    // (the answer can come before the state), so the shell sees what happened to the rollout.
    if (r.ok && incidentKinds(compile(plan)).find((k) => k.id === req.kind)?.immediate) {
      const rb = await rollbackAfter(store, rolledBefore, 5_000);
      ctx.out.write(rb ? `canary: rolled back from ${rb.fromWeight}% by ${rb.by}: ${rb.reason}\n` : `canary: the war room took it; its state did not show a rollback within 5s (look at the console)\n`);
    }
    return r.ok ? 0 : 1;
  } finally {
    store.close();
  }
}

/** The rollback the store's state shows that is not `before`, once it does (null: not within `ms`). */
function rollbackAfter(store: Awaited<ReturnType<typeof joinRoom>>, before: RolloutState['rollback'], ms: number): Promise<RolloutState['rollback']> {
  const fresh = () => {
    const rb = store.getState().rollback;
    return rb && rb !== before && rb.at !== before?.at ? rb : null;
  };
  return new Promise((resolve) => {
    if (fresh()) return resolve(fresh());
    const timer = setTimeout(() => {
      off();
      resolve(null);
    }, ms);
    const off = store.subscribe(() => {
      const rb = fresh();
      if (!rb) return;
      clearTimeout(timer);
      off();
      resolve(rb);
    });
  });
}
