// `canary declare`: one incident declaration over the war room's socket, then exit.
import type { IncidentSeverity } from '../../engine/types.js';
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
    store = await joinRoom(url, { tokenFile: values['token-file'], ca: values.ca, reconnect: false });
  } catch (err) {
    throw new UserError(messageOf(err));
  }
  try {
    const plan = serverPlan(store.planText, url, {});
    if (!store.you?.canAct) throw new UserError(`${store.you?.name ?? 'this token'} has a view-only token: a viewer cannot declare an incident`);
    const req = { kind: values.kind, severity: values.severity as IncidentSeverity | undefined, summary: values.summary };
    const problem = declareProblem(plan, req);
    if (problem) throw new UsageError(problem);
    const r = await declareRemote(store, plan, req);
    (r.ok ? ctx.out : ctx.err).write(`canary: ${r.ok ? '' : '✗ '}${r.text}\n`);
    return r.ok ? 0 : 1;
  } finally {
    store.close();
  }
}
