// What one terminal is looking at: `enter` on a pod describes it and follows its log (kubectl
// describe + logs -f). It is this terminal's, like its focus or its filter: never the shared,
// journaled rollout state, so in a war room one person's `enter` changes nothing on the others'
// screens. The console is handed a PodInspection (components render its view and turn keys into
// open/close; they never fetch): locally it is a LocalInspection over the runtime's PodInspector;
// a joined terminal's asks the war-room server, which inspects for that connection only.
import type { PodDetail, PodInfo } from '../engine/types.js';
import type { Plan } from '../plan/schema.js';
import { runbookPlan } from '../engine/runbook.js';
import type { PodInspector, PodInspectRequest } from './ports.js';

/** Lines of a followed log kept (the newest). */
export const LOG_LINES = 500;

export interface PodView {
  key: string;
  name: string;
  /** The description; null until it came (or when it failed: `error`). */
  detail: PodDetail | null;
  error: string | null;
  /** The log so far, newest last (at most LOG_LINES). */
  lines: string[];
  /** The log stream ended (the container stopped, the pod went): why. */
  ended: string | null;
}

/** The console's handle on what this terminal looks at. */
export interface PodInspection {
  open(key: string): void;
  close(): void;
  view(): PodView | null;
  subscribe(listener: () => void): () => void;
}

/** The request for a pod as the plan says to look at it (its container, its since window). */
export function inspectRequest(plan: Plan, pod: PodInfo): PodInspectRequest {
  const logs = runbookPlan(plan).logs;
  return { key: pod.key, name: pod.name, namespace: pod.namespace, region: pod.region, track: pod.track, ...(logs.container ? { container: logs.container } : {}), sinceMs: logs.sinceMs, tail: logs.tail };
}

/** A view updated from an inspector's callbacks; anything that arrives after close is dropped. */
export class ViewHolder {
  private current: PodView | null = null;
  private readonly listeners = new Set<() => void>();

  view(): PodView | null {
    return this.current;
  }
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
  set(v: PodView | null): void {
    this.current = v;
    for (const l of [...this.listeners]) l();
  }
  /** Applies a change to the view of `key` (if that is still the one shown). */
  update(key: string, f: (v: PodView) => PodView): void {
    if (this.current?.key !== key) return;
    this.set(f(this.current));
  }
}

export function withLines(v: PodView, lines: string[], ended?: string): PodView {
  const all = lines.length ? v.lines.concat(lines) : v.lines;
  return { ...v, lines: all.length > LOG_LINES ? all.slice(-LOG_LINES) : all, ended: ended ?? v.ended };
}

/** In this process: the runtime's inspector (the embedded world's or the clusters'). */
export class LocalInspection implements PodInspection {
  private readonly holder = new ViewHolder();
  private handle: { stop(): void } | null = null;
  /** Bumped per open: callbacks of an earlier one are ignored. */
  private generation = 0;

  constructor(
    private readonly o: {
      /** The plan (its container and since window); without one nothing can be inspected. */
      plan?: Plan;
      inspector: PodInspector | null;
      /** The pod as the rollout knows it now. */
      pod(key: string): PodInfo | undefined;
    },
  ) {}

  open(key: string): void {
    this.close();
    const gen = ++this.generation;
    const pod = this.o.pod(key);
    const base: PodView = { key, name: pod?.name ?? key, detail: null, error: null, lines: [], ended: null };
    if (!pod) return this.holder.set({ ...base, error: 'the pod is gone' });
    this.holder.set(base);
    const { inspector, plan } = this.o;
    if (!inspector || !plan) return this.holder.set({ ...base, error: 'no pod inspector is configured' });
    const mine = (f: () => void) => {
      if (gen === this.generation) f();
    };
    try {
      this.handle = inspector.inspect(inspectRequest(plan, pod), {
        detail: (detail, error) => mine(() => this.holder.update(key, (v) => ({ ...v, detail, error: error ?? null }))),
        logs: (lines, ended) => mine(() => this.holder.update(key, (v) => withLines(v, lines, ended))),
      });
    } catch (err) {
      this.holder.set({ ...base, error: err instanceof Error ? err.message : String(err) });
    }
  }

  close(): void {
    this.generation++;
    this.handle?.stop();
    this.handle = null;
    if (this.holder.view() !== null) this.holder.set(null);
  }

  view(): PodView | null {
    return this.holder.view();
  }
  subscribe(listener: () => void): () => void {
    return this.holder.subscribe(listener);
  }
}
