// `canary declare`: declare an incident against a running `canary serve` war room from a terminal
// without a screen (a pager's shell, a script): one action over the war room's socket as the
// token's person, then the server's answer, then exit. The same command the console's `i` sends,
// so the plan's immediate kinds (a security breach...) roll back at once, journaled under the name.
import { compile } from '../engine/compiled.js';
import { incidentKinds } from '../engine/people.js';
import type { IncidentSeverity } from '../engine/types.js';
import type { Plan } from '../plan/schema.js';
import type { RemoteStore } from './client.js';

export interface DeclareRequest {
  kind: string;
  severity?: IncidentSeverity | undefined;
  summary: string;
}

/** Checks the request against the plan the server runs; a message saying what to give, or null. */
export function declareProblem(plan: Plan, req: DeclareRequest): string | null {
  const kinds = incidentKinds(compile(plan));
  if (!kinds.some((k) => k.id === req.kind)) return `--kind ${req.kind}: not an incident kind of ${plan.metadata.name}; expected one of: ${kinds.map((k) => `${k.id}${k.immediate ? ' (rolls back)' : ''}`).join(', ')}`;
  if (!req.summary.trim()) return '--summary: say in one line what is happening (it goes in the journal and the pages)';
  return null;
}

/** Sends the declaration and waits for the server's answer (ok: the engine took it). */
export function declareRemote(store: RemoteStore, plan: Plan, req: DeclareRequest, timeoutMs = 10_000): Promise<{ ok: boolean; text: string }> {
  const kind = incidentKinds(compile(plan)).find((k) => k.id === req.kind);
  const severity = req.severity ?? kind?.severity ?? 'P1';
  const before = store.notice;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      off();
      resolve({ ok: false, text: `no answer from the war room within ${timeoutMs / 1000}s; look at the console before declaring again` });
    }, timeoutMs);
    const off = store.onStatus(() => {
      if (store.notice && store.notice !== before) {
        clearTimeout(timer);
        off();
        resolve({ ok: store.notice.ok, text: store.notice.text });
      } else if (store.status === 'closed' || store.status === 'refused') {
        clearTimeout(timer);
        off();
        resolve({ ok: false, text: `the war room connection ${store.status}${store.problem ? `: ${store.problem}` : ''}` });
      }
    });
    store.dispatch({ type: 'command', at: store.getState().now, actor: { id: store.you?.id ?? 'remote' }, command: { kind: 'declare-incident', severity, summary: req.summary.trim(), ...(req.kind !== 'other' ? { incidentKind: req.kind } : {}) } });
  });
}
