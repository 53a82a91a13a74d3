// `canary rollback --reason "..."`: traffic off the canary in every cluster of the plan, from any
// shell, with the same code as `R` `y` in the console. Never needs the lease (taking traffic off
// is always allowed); the driving console sees 0% as drift and holds.
import { connectKubernetes, isKubernetesPlan, type KubeWiring } from '../../kubernetes.js';
import { planCacheDir } from '../../env.js';
import { planAndText } from '../../wiring/plan.js';
import { UsageError, UserError, messageOf } from '../errors.js';
import type { Ctx } from '../types.js';

export async function rollback(
  values: { plan?: string | undefined; reason?: string | undefined; kubeconfig?: string | undefined; context?: string[] | undefined; json?: boolean | undefined; as?: string | undefined },
  ctx: Ctx,
): Promise<number> {
  if (!values.reason?.trim()) throw new UsageError('canary rollback needs --reason "what happened" (the hook gets it as $ROLLBACK_REASON; the driving console sees the rollback and records it)', 'canary rollback');
  const { plan, planPath } = planAndText(values, { cacheDir: planCacheDir(ctx.env) });
  if (!isKubernetesPlan(plan)) throw new UserError(`${planPath}: traffic.provider is "sim"; canary rollback acts on a Kubernetes provider (istio, gateway-api, smi, nginx, argo-rollouts, replicas)`);
  let kube: KubeWiring;
  try {
    kube = await connectKubernetes(plan, {
      planPath,
      now: () => Date.now(),
      lease: false,
      env: ctx.env.vars,
      ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
      ...(values.context ? { contexts: values.context } : {}),
    });
  } catch (err) {
    throw new UserError(messageOf(err));
  }
  const who = values.as ?? ctx.env.user ?? 'someone';
  const reason = `manual rollback by ${who}: ${values.reason.trim()}`;
  const t0 = performance.now();
  const r = await kube.traffic.rollback(reason, plan.target.regions);
  const ms = Math.round(performance.now() - t0);
  kube.close();
  const ok = (r.clusters ?? []).every((c) => c.ok);
  if (values.json) ctx.out.write(`${JSON.stringify({ ok, reason, ms, clusters: r.clusters, detail: r.detail })}\n`);
  else {
    for (const c of r.clusters ?? []) ctx.out.write(`${c.ok ? '✓' : '✗'} ${c.cluster.padEnd(20)} ${c.weight ?? '?'}%  ${c.detail}${c.attempts > 1 ? ` (${c.attempts} tries)` : ''}\n`);
    ctx.out.write(`${ok ? 'rolled back' : 'ROLLBACK NOT CONFIRMED'} in ${ms} ms: ${r.detail}\n`);
  }
  return ok ? 0 : 3;
}
