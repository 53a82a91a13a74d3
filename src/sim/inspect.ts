// The embedded world's `kubectl describe pod` and `kubectl logs -f`: a description made from the
// pod as the world reports it (status, restarts, last restart reason) and a log that follows the
// world's clock: a start-up, then request lines while it runs; a crash-looping canary's log ends
// with its last words (the panic that kills it each time), an OOMKilled one with the heap warning.
// Deterministic per pod name, so the same pod tells the same story.
import type { PodInspectRequest, PodInspector } from '../runtime/ports.js';
import type { PodDetail, PodInfo } from '../engine/types.js';

export interface SimInspectorOptions {
  /** The pod as the world reports it now (the engine's copy). */
  pod(key: string): PodInfo | undefined;
  now(): number;
  /** Real ms between followed log lines (default 700). */
  everyMs?: number;
  version?: { canary: string; stable: string };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const PATHS = ['POST /v1/workflows', 'GET /v1/workflows/{id}', 'POST /v1/workflows/validate', 'POST /v1/models/route', 'POST /v1/policies/evaluate', 'GET /healthz'];

function stamp(at: number): string {
  return new Date(at).toISOString();
}

/** What the container printed when it started. */
function startup(p: PodInfo, container: string, at: number, version: string): string[] {
  return [
    `${stamp(at)} INFO  ${container} ${version} starting (track=${p.track} region=${p.region} pod=${p.name})`,
    `${stamp(at + 180)} INFO  postgres: connection pool ready (size=20)`,
    `${stamp(at + 260)} INFO  redis: cluster ok (6 nodes, failover tested)`,
    `${stamp(at + 410)} INFO  neo4j: driver connected (bolt+routing)`,
    `${stamp(at + 530)} INFO  saga coordinator: event store partitions 0-15 attached`,
    `${stamp(at + 600)} INFO  listening on :8080`,
  ];
}

/** The crash a crash-looping canary dies of, every time. */
function lastWords(p: PodInfo, at: number): string[] {
  const n = hash(p.name) % 16;
  return [
    `${stamp(at + 700)} WARN  saga coordinator: event store partition ${n} replay is behind (lag 4.2s)`,
    `${stamp(at + 850)} ERROR policy engine: compiled policy bundle rc has 2 rules the stable store cannot read`,
    `${stamp(at + 900)} FATAL saga coordinator: cannot resume workflow wf-${(hash(p.name) % 90000) + 10000}: schema version 7 not in event store`,
    `panic: runtime error: invalid memory address or nil pointer dereference`,
    `[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x12a4f3e]`,
    ``,
    `goroutine 1 [running]:`,
    `maestro/orchestrator/saga.(*Coordinator).Resume(0xc000412000, {0x1c2e0a0, 0xc0000b6000})`,
    `	/src/saga/coordinator.go:214 +0x3be`,
    `main.main()`,
    `	/src/cmd/orchestrator/main.go:88 +0x6a5`,
  ];
}

function oomWords(at: number): string[] {
  return [`${stamp(at + 700)} WARN  heap 1.9Gi of 2Gi limit after model cache warm-up`, `${stamp(at + 820)} WARN  gc: pause 410ms (heap 2.0Gi)`];
}

export function simDetail(p: PodInfo, container: string, now: number, version: string): PodDetail {
  const crash = crashed(p);
  const waiting = p.phase === 'Pending' || p.reason === 'ContainerCreating' || crash;
  const age = Math.max(0, now - p.startedAt);
  const events: PodDetail['events'] = [
    { type: 'Normal', reason: 'Scheduled', message: `Successfully assigned ${p.namespace}/${p.name} to ip-10-0-${hash(p.name) % 200}-${hash(p.region) % 200}.${p.region}.compute.internal`, count: 1, at: p.startedAt },
  ];
  if (p.phase !== 'Pending') {
    events.push({ type: 'Normal', reason: 'Pulled', message: `Container image "maestro/orchestrator:${version}" already present on machine`, count: Math.max(1, p.restarts + 1), at: p.startedAt + 2_000 });
    events.push({ type: 'Normal', reason: 'Created', message: `Created container ${container}`, count: Math.max(1, p.restarts + 1), at: p.startedAt + 2_500 });
    events.push({ type: 'Normal', reason: 'Started', message: `Started container ${container}`, count: Math.max(1, p.restarts + 1), at: p.startedAt + 3_000 });
  } else events.push({ type: 'Warning', reason: 'FailedScheduling', message: p.message ?? '0/12 nodes are available: 12 Insufficient cpu.', count: 3, at: p.startedAt + 1_000 });
  if (crash) events.push({ type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container ${container} in pod ${p.name}_${p.namespace}`, count: Math.max(1, p.restarts * 2), at: now - 5_000 });
  if (!p.ready && p.phase === 'Running' && !crash) events.push({ type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: HTTP probe failed with statuscode: 503', count: 2, at: now - 10_000 });
  const last = p.lastRestartReason ? `Terminated: ${p.lastRestartReason} (exit code ${p.lastRestartReason === 'OOMKilled' ? 137 : 2})` : undefined;
  return {
    node: `ip-10-0-${hash(p.name) % 200}-${hash(p.region) % 200}.${p.region}.compute.internal`,
    ip: `10.0.${hash(p.name) % 250}.${hash(p.name + 'x') % 250}`,
    phase: p.phase,
    conditions: [
      { type: 'PodScheduled', status: p.phase === 'Pending' && p.message ? 'False' : 'True', ...(p.phase === 'Pending' && p.message ? { reason: 'Unschedulable', message: p.message } : {}) },
      { type: 'Initialized', status: p.phase === 'Pending' ? 'False' : 'True' },
      { type: 'ContainersReady', status: p.ready ? 'True' : 'False', ...(p.ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${container}]` }) },
      { type: 'Ready', status: p.ready ? 'True' : 'False', ...(p.ready ? {} : { reason: 'ContainersNotReady' }) },
    ],
    containers: [
      {
        name: container,
        image: `maestro/orchestrator:${version}`,
        ready: p.ready,
        restarts: p.restarts,
        state: waiting ? `Waiting: ${crash ? 'CrashLoopBackOff' : p.reason}` : p.reason === 'Terminating' ? 'Terminated: Completed' : `Running since ${stamp(now - age)}`,
        ...(last ? { lastState: last } : {}),
      },
    ],
    events: events.sort((a, b) => a.at - b.at),
  };
}

/** The pod's container died and is restarting (or being removed after dying): its log ends with
 * its last words. */
function crashed(p: PodInfo): boolean {
  return p.reason === 'CrashLoopBackOff' || p.reason === 'Error' || (p.reason === 'Terminating' && p.lastRestartReason === 'Error' && p.restarts > 0 && !p.ready);
}

const starting = (p: PodInfo) => p.phase === 'Pending' || p.reason === 'ContainerCreating';

export class SimPodInspector implements PodInspector {
  constructor(private readonly o: SimInspectorOptions) {}

  inspect(e: PodInspectRequest, out: { detail(d: PodDetail | null, error?: string): void; logs(lines: string[], ended?: string): void }): { stop(): void } {
    const container = e.container ?? 'main';
    const version = (track: string) => (track === 'canary' ? (this.o.version?.canary ?? 'rc') : (this.o.version?.stable ?? 'stable'));
    let stopped = false;
    const timers: NodeJS.Timeout[] = [];
    const pod = this.o.pod(e.key);
    if (!pod) {
      queueMicrotask(() => out.detail(null, `pod ${e.name} not found (it was replaced)`));
      return { stop() {} };
    }
    const now = this.o.now();
    const v = version(pod.track);
    let i = 8;
    let waitingSaid = false;
    // Followed: a new line now and then, stamped with the world's clock; a container that has not
    // started yet is waited for; one that dies says its last words, and the follow ends.
    const tick = () => {
      if (stopped) return;
      const p = this.o.pod(e.key);
      if (!p) return out.logs([], `pod ${e.name} is gone (replaced)`);
      if (starting(p)) {
        if (!waitingSaid) out.logs([`(container "${container}" is waiting to start: ${p.reason}; following once it runs)`]);
        waitingSaid = true;
        timers.push(setTimeout(tick, this.o.everyMs ?? 700));
        return;
      }
      if (waitingSaid) {
        waitingSaid = false;
        out.detail(simDetail(p, container, this.o.now(), v));
        out.logs(startup(p, container, this.o.now() - 1_000, v));
      }
      if (crashed(p)) {
        out.detail(simDetail(p, container, this.o.now(), v));
        out.logs(lastWords(p, this.o.now() - 900), `container "${container}" exited with code 2 (CrashLoopBackOff): these are its last words`);
        return;
      }
      out.logs([requestLine(p, this.o.now(), i++)]);
      timers.push(setTimeout(tick, this.o.everyMs ?? 700));
    };
    queueMicrotask(() => {
      if (stopped) return;
      out.detail(simDetail(pod, container, now, v));
      if (starting(pod)) return tick();
      const crash = crashed(pod);
      // The log as of now, within the since window: the last start, and what came after.
      const startedAt = crash ? now - 12_000 : Math.max(pod.startedAt, now - e.sinceMs);
      const lines = startup(pod, container, startedAt, v);
      if (crash) {
        lines.push(...lastWords(pod, startedAt));
        out.logs(lines.slice(-e.tail), `container "${container}" exited with code 2 after restart ${pod.restarts} (CrashLoopBackOff): these are its last words`);
        return;
      }
      if (pod.lastRestartReason === 'OOMKilled') lines.push(...oomWords(startedAt));
      for (let k = 0; k < 8; k++) lines.push(requestLine(pod, now - (8 - k) * 7_000, k));
      out.logs(lines.slice(-e.tail));
      timers.push(setTimeout(tick, this.o.everyMs ?? 700));
    });
    return {
      stop() {
        stopped = true;
        for (const t of timers) clearTimeout(t);
      },
    };
  }
}

function requestLine(p: PodInfo, at: number, i: number): string {
  const h = hash(`${p.name}:${i}`);
  const path = PATHS[h % PATHS.length]!;
  const ms = 20 + (h % 180) + (p.track === 'canary' ? 6 : 0);
  const status = h % 997 === 0 ? 503 : 200;
  return `${stamp(at)} INFO  ${path} ${status} ${ms}ms trace=${(h >>> 4).toString(16).padStart(7, '0')}`;
}
