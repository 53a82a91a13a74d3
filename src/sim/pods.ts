// The simulated cluster's pods: stable pods per region, a canary ReplicaSet scaled with the canary
// weight, and what happens to them (scheduled, ContainerCreating, ready, restarted, replaced,
// crashing in a loop, terminated). Changes go through a time-ordered queue of scheduled
// transitions, so advancing over a quiet minute touches no pods at all, whatever their number.
// The pods PRNG stream is its own: changing the pod count does not change SLI noise.
import type { EngineEvent, PodInfo } from '../engine/types.js';
import { Rng, hash32 } from './random.js';

const SECOND = 1_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const K_CREATING = 1; // Pending -> ContainerCreating
const K_STARTED = 2; // ContainerCreating -> Running
const K_READY = 3; // Running, not ready after a restart -> ready
const K_RESTART = 4; // a container restart (OOMKilled / Error)
const K_REPLACE = 5; // the pod is evicted/rescheduled: Terminating, and a new one is created
const K_CRASH = 6; // CrashLoopBackOff: the container exits again
const K_DELETE = 7; // Terminating -> gone

interface SimPod {
  key: string;
  name: string;
  region: string;
  track: 'stable' | 'canary';
  phase: PodInfo['phase'];
  ready: boolean;
  reason: string;
  message: string | undefined;
  restarts: number;
  lastRestartReason: string | undefined;
  startedAt: number;
  /** Scheduled transitions carry the token they were made with; bumping it cancels them. */
  token: number;
  alive: boolean;
  terminating: boolean;
  /** Runs the crashing canary build: crashes whenever started. */
  crashing: boolean;
  /** Has crashed at least once while crashing (counts as unavailable for traffic). */
  broken: boolean;
  crashes: number;
  /** Sent to the consumer at least once (a sync or an upsert). */
  emitted: boolean;
}

interface Scheduled {
  at: number;
  seq: number;
  kind: number;
  pod: SimPod;
  token: number;
}

/** A binary min-heap on (at, seq): time order, ties in scheduling order (deterministic). */
class EventQueue {
  private items: Scheduled[] = [];

  get size(): number {
    return this.items.length;
  }

  peekAt(): number {
    return this.items.length ? this.items[0]!.at : Infinity;
  }

  push(item: Scheduled): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): Scheduled | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(x: Scheduled, y: Scheduled): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

/** The alphabet Kubernetes uses for generated name suffixes (no vowels, no look-alikes). */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(rng: Rng, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += NAME_ALPHABET[Math.floor(rng.next() * NAME_ALPHABET.length)];
  return s;
}

function toPodInfo(p: SimPod, namespace: string): PodInfo {
  const info: PodInfo = {
    key: p.key,
    name: p.name,
    namespace,
    region: p.region,
    track: p.track,
    phase: p.phase,
    ready: p.ready,
    reason: p.reason,
    restarts: p.restarts,
    startedAt: p.startedAt,
  };
  if (p.message !== undefined) info.message = p.message;
  if (p.lastRestartReason !== undefined) info.lastRestartReason = p.lastRestartReason;
  return info;
}

export interface SimPodsOptions {
  seed: number;
  /** Sim epoch ms at which the pods exist (the initial stable ones, of various ages). */
  start: number;
  namespace: string;
  deployment: string;
  /** Stable and canary versions: they name the ReplicaSets' pod-template hashes. */
  version: string;
  previousVersion: string;
  regions: readonly string[];
  podsPerRegion: number;
  replaceMeanMs: number;
  restartMeanMs: number;
}

export class SimPods {
  private readonly rng: Rng;
  private readonly namespace: string;
  private readonly deployment: string;
  private readonly regions: readonly string[];
  private readonly podsPerRegion: number;
  private readonly replaceMeanMs: number;
  private readonly restartMeanMs: number;
  private readonly nodesPerRegion: number;
  private readonly pods = new Map<string, SimPod>();
  private readonly queue = new EventQueue();
  private seq = 0;
  /** Keys deleted since the last emission: never reused before the consumer has seen the delete. */
  private readonly recentDeletes = new Set<string>();
  private readonly dirty = new Set<SimPod>();
  private deletes: string[] = [];
  private synced = false;
  /** Canary pods not terminating, and those of them broken by a crash loop. */
  canaryPods = 0;
  canaryBroken = 0;
  /** New canary pods run the crashing build. */
  private crashActive = false;
  private readonly stableHash: string;
  private readonly canaryHash: string;

  constructor(o: SimPodsOptions) {
    this.rng = Rng.derive(o.seed, 'pods');
    this.namespace = o.namespace;
    this.deployment = o.deployment;
    this.regions = o.regions;
    this.podsPerRegion = o.podsPerRegion;
    this.replaceMeanMs = o.replaceMeanMs;
    this.restartMeanMs = o.restartMeanMs;
    this.nodesPerRegion = Math.max(3, this.podsPerRegion * 2);
    this.stableHash = randomSuffix(new Rng(hash32(`${o.deployment}:${o.previousVersion}`)), 5);
    this.canaryHash = randomSuffix(new Rng(hash32(`${o.deployment}:canary:${o.version}`)), 5);
    for (const region of this.regions)
      for (let i = 0; i < this.podsPerRegion; i++) this.createPod(region, 'stable', o.start, true);
  }

  /** The share of canary pods that answer nothing (503 from the mesh). */
  get failShare(): number {
    return this.canaryBroken > 0 && this.canaryPods > 0 ? this.canaryBroken / this.canaryPods : 0;
  }

  get size(): number {
    return this.pods.size;
  }

  /** All live pods as they are now (copies). */
  list(): PodInfo[] {
    const out: PodInfo[] = [];
    for (const p of this.pods.values()) out.push(toPodInfo(p, this.namespace));
    return out;
  }

  desiredCanary(weight: number): number {
    return weight > 0 ? Math.max(1, Math.ceil((this.podsPerRegion * weight) / 100)) : 0;
  }

  /** The crashing build shows: running canary pods start crashing, and new ones crash on start. */
  startCrashing(now: number): void {
    if (this.crashActive) return;
    this.crashActive = true;
    for (const p of this.pods.values()) {
      if (p.track !== 'canary' || p.terminating || p.crashing) continue;
      p.crashing = true;
      if (p.phase === 'Running') this.schedule(p, K_CRASH, now + this.rng.uniform(3, 20) * SECOND, true);
    }
  }

  /** New canary pods run a sound build again (those already crashing keep crashing until replaced). */
  stopCrashing(): void {
    this.crashActive = false;
  }

  /** Scales the canary ReplicaSet of each region to what `weight` needs (0 outside `canaryRegions`). */
  scaleCanary(weight: number, canaryRegions: readonly string[], now: number): void {
    const desired = this.desiredCanary(weight);
    const current = new Map<string, SimPod[]>(this.regions.map((r) => [r, []]));
    for (const p of this.pods.values())
      if (p.track === 'canary' && !p.terminating) current.get(p.region)?.push(p);
    for (const region of this.regions) {
      const want = canaryRegions.includes(region) ? desired : 0;
      const have = current.get(region)!;
      for (let i = have.length; i < want; i++) this.createPod(region, 'canary', now, false);
      if (have.length > want) {
        // Like a ReplicaSet scaling down: not-ready pods first, then the youngest.
        const victims = [...have].sort((a, b) => Number(a.ready) - Number(b.ready) || b.startedAt - a.startedAt || (a.key < b.key ? -1 : 1));
        for (const p of victims.slice(0, have.length - want)) this.terminate(p, now);
      }
    }
  }

  /** What changed since the last call: `pods.sync` per region the first time, then one `pods.delta`
   * with every pod that changed (none when nothing did). */
  emit(at: number): EngineEvent[] {
    const events: EngineEvent[] = [];
    if (!this.synced) {
      this.synced = true;
      const byRegion = new Map<string, PodInfo[]>(this.regions.map((r) => [r, []]));
      for (const p of this.pods.values()) {
        p.emitted = true;
        byRegion.get(p.region)?.push(toPodInfo(p, this.namespace));
      }
      for (const [region, pods] of byRegion) events.push({ type: 'pods.sync', at, region, pods });
      this.dirty.clear();
      this.deletes = [];
      this.recentDeletes.clear();
    } else if (this.dirty.size > 0 || this.deletes.length > 0) {
      const upserts: PodInfo[] = [];
      for (const p of this.dirty) {
        p.emitted = true;
        upserts.push(toPodInfo(p, this.namespace));
      }
      events.push({ type: 'pods.delta', at, upserts, deletes: this.deletes });
      this.dirty.clear();
      this.deletes = [];
      this.recentDeletes.clear();
    }
    return events;
  }

  private schedule(pod: SimPod, kind: number, at: number, cancelOthers = false): void {
    if (cancelOthers) pod.token++;
    this.queue.push({ at, seq: this.seq++, kind, pod, token: pod.token });
  }

  private podKey(region: string, name: string): string {
    return `${region}/${this.namespace}/${name}`;
  }

  private newName(region: string, track: 'stable' | 'canary'): string {
    const deployment = this.deployment;
    const prefix = track === 'canary' ? `${deployment}-canary-${this.canaryHash}-` : `${deployment}-${this.stableHash}-`;
    for (;;) {
      const name = prefix + randomSuffix(this.rng, 5);
      const key = this.podKey(region, name);
      if (!this.pods.has(key) && !this.recentDeletes.has(key)) return name;
    }
  }

  private createPod(region: string, track: 'stable' | 'canary', at: number, initial: boolean): SimPod {
    const rng = this.rng;
    const name = this.newName(region, track);
    const pod: SimPod = {
      key: this.podKey(region, name),
      name,
      region,
      track,
      phase: 'Pending',
      ready: false,
      reason: 'Pending',
      message: undefined,
      restarts: 0,
      lastRestartReason: undefined,
      startedAt: at,
      token: 0,
      alive: true,
      terminating: false,
      crashing: track === 'canary' && this.crashActive,
      broken: false,
      crashes: 0,
      emitted: false,
    };
    this.pods.set(pod.key, pod);
    if (track === 'canary') this.canaryPods++;
    if (initial) {
      // Pods that were already running when the world starts: various ages, a few old restarts.
      pod.phase = 'Running';
      pod.ready = true;
      pod.reason = 'Running';
      pod.startedAt = at - Math.round(rng.uniform(2 * HOUR, 6 * DAY));
      if (rng.chance(0.25)) {
        pod.restarts = rng.int(1, 3);
        pod.lastRestartReason = rng.chance(0.6) ? 'OOMKilled' : 'Error';
      }
      this.scheduleChurn(pod, at);
    } else {
      if (rng.chance(0.12)) {
        // Waits for the cluster autoscaler.
        pod.message = `0/${this.nodesPerRegion} nodes are available: insufficient cpu`;
        this.schedule(pod, K_CREATING, at + rng.uniform(25, 120) * SECOND);
      } else {
        this.schedule(pod, K_CREATING, at + rng.uniform(1, 4) * SECOND);
      }
    }
    this.dirty.add(pod);
    return pod;
  }

  /** The next restart or replacement of a running, ready pod (memoryless, so redrawn each time). */
  private scheduleChurn(pod: SimPod, at: number): void {
    const restartIn = this.rng.exp(this.restartMeanMs);
    const replaceIn = this.rng.exp(this.replaceMeanMs);
    if (restartIn < replaceIn) this.schedule(pod, K_RESTART, at + restartIn, true);
    else this.schedule(pod, K_REPLACE, at + replaceIn, true);
  }

  private terminate(pod: SimPod, at: number): void {
    if (pod.terminating || !pod.alive) return;
    pod.terminating = true;
    pod.ready = false;
    pod.reason = 'Terminating';
    pod.message = undefined;
    if (pod.track === 'canary') {
      this.canaryPods--;
      if (pod.broken) this.canaryBroken--;
    }
    this.schedule(pod, K_DELETE, at + this.rng.uniform(5, 30) * SECOND, true);
    this.dirty.add(pod);
  }

  /** Applies every scheduled pod transition due at or before `until`, in time order. */
  run(until: number): void {
    const q = this.queue;
    const rng = this.rng;
    while (q.peekAt() <= until) {
      const ev = q.pop()!;
      const pod = ev.pod;
      if (!pod.alive || ev.token !== pod.token) continue; // cancelled
      const at = ev.at;
      switch (ev.kind) {
        case K_CREATING:
          pod.reason = 'ContainerCreating';
          pod.message = undefined;
          this.schedule(pod, K_STARTED, at + rng.uniform(6, 25) * SECOND);
          break;
        case K_STARTED:
          pod.phase = 'Running';
          pod.reason = 'Running';
          if (pod.crashing) {
            pod.ready = false;
            this.schedule(pod, K_CRASH, at + rng.uniform(3, 12) * SECOND);
          } else {
            pod.ready = true;
            this.scheduleChurn(pod, at);
          }
          break;
        case K_READY:
          pod.reason = 'Running';
          pod.ready = true;
          this.scheduleChurn(pod, at);
          break;
        case K_RESTART:
          pod.restarts++;
          pod.lastRestartReason = rng.chance(0.6) ? 'OOMKilled' : 'Error';
          pod.reason = pod.lastRestartReason;
          pod.ready = false;
          this.schedule(pod, K_READY, at + rng.uniform(10, 40) * SECOND, true);
          break;
        case K_REPLACE:
          this.terminate(pod, at);
          this.createPod(pod.region, pod.track, at, false);
          break;
        case K_CRASH: {
          pod.restarts++;
          pod.crashes++;
          pod.lastRestartReason = 'Error';
          pod.reason = 'CrashLoopBackOff';
          pod.phase = 'Running';
          pod.ready = false;
          if (!pod.broken) {
            pod.broken = true;
            this.canaryBroken++;
          }
          // Kubelet back-off: 10 s doubling to 5 min, then the container exits again within seconds.
          const backoff = Math.min(300, 10 * 2 ** Math.min(pod.crashes - 1, 5));
          this.schedule(pod, K_CRASH, at + (backoff + rng.uniform(2, 8)) * SECOND);
          break;
        }
        case K_DELETE:
          pod.alive = false;
          this.pods.delete(pod.key);
          this.dirty.delete(pod);
          if (pod.emitted) this.deletes.push(pod.key);
          this.recentDeletes.add(pod.key);
          continue;
      }
      this.dirty.add(pod);
    }
  }
}
