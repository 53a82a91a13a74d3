// One driver per rollout: a coordination.k8s.io/v1 Lease, as client-go's leader election does it.
// The terminal holding the lease drives; the others run read-only and show who drives.
// - A lease is free when its holder is empty, or when it has not been renewed for
//   leaseDurationSeconds *as timed by this terminal* (from when we saw its renewTime change), so
//   clock skew between machines cannot steal it early.
// - Updates carry the resourceVersion we read (409 = someone else wrote first: we lost the race).
// - The holder renews every `renewEveryMs`; if it has not renewed successfully for `renewDeadlineMs`
//   (less than the lease duration) it stops driving at once: `canMutate()` turns false before any
//   other terminal could take the lease over.
// - Timings as client-go's leader election and Argo Rollouts use them: 15 s duration, 10 s renew
//   deadline, 2 s retry period (the holder renews every retry period).
// - `epoch` is the Lease's leaseTransitions as we hold it: it goes up by one at every change of
//   holder, so a write stamped with an older epoch is a stale driver's (the in-cluster driver puts
//   holder and epoch in every status write and journal entry, and refuses older ones).
import { hostname, userInfo } from 'node:os';
import { KubeError, type KubeCluster } from '../kube/client.js';
import type { Emit } from '../runtime/ports.js';

export interface LeaseOptions {
  cluster: KubeCluster;
  namespace: string;
  name: string;
  /** Who we are, e.g. "ana@host:pid". */
  identity?: string;
  durationSeconds?: number;
  renewEveryMs?: number;
  /** Stop mutating if the last successful renewal is older than this (default 2/3 of duration). */
  renewDeadlineMs?: number;
  /** After a failed renewal, try again this soon (default 2 s, client-go's RetryPeriod). */
  retryMs?: number;
  /** Time for events (the injected clock); lease timing itself uses the real monotonic clock. */
  now: () => number;
  /** Real monotonic ms (tests may inject). */
  mono?: () => number;
}

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Kubernetes MicroTime: RFC 3339 with 6 fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaseKeeper {
  readonly name = 'lease';
  private held = false;
  private lastRenewOk = -Infinity;
  private observed: { key: string; at: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private emit: Emit = () => undefined;
  private stopped = false;
  private inflight: Promise<unknown> | null = null;
  holder: string | null = null;
  /** leaseTransitions of the lease while we hold it (null: never held). */
  epoch: number | null = null;
  /** The lease was read (or written) at least once: who drives is known. */
  known = false;
  readonly identity: string;
  private readonly durationMs: number;
  private readonly mono: () => number;

  constructor(private readonly o: LeaseOptions) {
    this.identity = o.identity ?? `${safeUser()}@${hostname()}:${process.pid}`;
    this.durationMs = (o.durationSeconds ?? 15) * 1000;
    this.mono = o.mono ?? (() => performance.now());
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.o.namespace)}/leases`;
  }

  /** True only while we hold the lease and renewed it recently enough. Checked before every write. */
  canMutate(): boolean {
    return this.held && this.mono() - this.lastRenewOk < (this.o.renewDeadlineMs ?? (this.durationMs * 2) / 3);
  }

  /** Why not, for the actuator's guard (null: we may). */
  whyNot = (): string | null => {
    if (this.canMutate()) return null;
    if (this.held) return `lease ${this.o.name} not renewed for ${Math.round((this.mono() - this.lastRenewOk) / 1000)} s: stopped driving`;
    return `lease ${this.o.name} is held by ${this.holder ?? 'nobody yet'}`;
  };

  start(emit: Emit): void {
    this.emit = emit;
    void this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    // A round in flight could take the lease again just after it was handed back.
    await this.inflight?.catch(() => undefined);
    if (this.held) {
      // Hand it back at once rather than making the next driver wait out the duration.
      try {
        const lease = await this.o.cluster.request<Raw>('GET', `${this.path}/${this.o.name}`, { verb: 'get', resource: 'leases.coordination.k8s.io', timeoutMs: 3_000 });
        if (lease.spec?.holderIdentity === this.identity) {
          lease.spec = { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(Date.now()) };
          await this.o.cluster.request('PUT', `${this.path}/${this.o.name}`, { verb: 'update', resource: 'leases.coordination.k8s.io', body: lease, timeoutMs: 3_000 });
        }
      } catch {
        /* it expires by itself */
      }
      this.held = false;
    }
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    const round = this.tryAcquireOrRenew();
    this.inflight = round;
    const ok = await round;
    this.inflight = null;
    if (this.stopped) return;
    // client-go: renew every RetryPeriod while holding; after a failed renewal try again soon,
    // so one lost request does not eat the whole renew deadline.
    const every = this.o.renewEveryMs ?? this.o.retryMs ?? 2_000;
    const wait = this.held ? (ok ? every : Math.min(every, this.o.retryMs ?? 2_000)) : Math.max(200, every / 2);
    this.timer = setTimeout(() => void this.loop(), wait);
    this.timer.unref?.();
  }

  /** One round; public for tests. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const c = this.o.cluster;
    const res = 'leases.coordination.k8s.io';
    const nowWall = Date.now();
    try {
      let lease: Raw | null = null;
      try {
        lease = await c.request<Raw>('GET', `${this.path}/${this.o.name}`, { verb: 'get', resource: res, timeoutMs: 5_000 });
      } catch (err) {
        if (!(err instanceof KubeError && err.status === 404)) throw err;
      }
      if (!lease) {
        const body = {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec: { holderIdentity: this.identity, leaseDurationSeconds: this.durationMs / 1000, acquireTime: microTime(nowWall), renewTime: microTime(nowWall), leaseTransitions: 0 },
        };
        await c.request('POST', this.path, { verb: 'create', resource: res, body, timeoutMs: 5_000 });
        return this.won(0);
      }
      const spec: Raw = lease.spec ?? {};
      const holder: string | null = spec.holderIdentity || null;
      const key = `${holder}|${spec.renewTime}|${lease.metadata?.resourceVersion}`;
      if (!this.observed || this.observed.key !== key) this.observed = { key, at: this.mono() };
      const durMs = Number(spec.leaseDurationSeconds ?? 15) * 1000;
      const expired = this.mono() - this.observed.at > durMs;
      if (holder && holder !== this.identity && !expired) return this.lost(holder);
      const mine = holder === this.identity;
      lease.spec = {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: this.durationMs / 1000,
        renewTime: microTime(nowWall),
        ...(mine ? {} : { acquireTime: microTime(nowWall), leaseTransitions: Number(spec.leaseTransitions ?? 0) + 1 }),
      };
      // PUT with the resourceVersion we read: 409 if anyone wrote since.
      await c.request('PUT', `${this.path}/${this.o.name}`, { verb: 'update', resource: res, body: lease, timeoutMs: 5_000 });
      return this.won(Number(lease.spec.leaseTransitions ?? 0));
    } catch (err) {
      if (err instanceof KubeError && err.status === 409) {
        // Lost a race: whoever wrote first holds it. Read who, so the console can say so.
        this.observed = null;
        let holder = 'another terminal';
        let transitions: number | null = null;
        try {
          const now = await c.request<Raw>('GET', `${this.path}/${this.o.name}`, { verb: 'get', resource: res, timeoutMs: 5_000 });
          holder = now.spec?.holderIdentity || holder;
          transitions = Number(now.spec?.leaseTransitions ?? 0);
        } catch {
          /* said as "another terminal" */
        }
        // Our own earlier write that timed out on our side but was committed: still ours.
        if (holder === this.identity && transitions !== null) return this.won(transitions);
        return this.lost(holder);
      }
      const message = err instanceof Error ? err.message : String(err);
      if (this.held && !this.canMutate()) {
        this.held = false;
        this.announce(false, this.identity, `renewal failed: ${message}; stopped driving`);
      } else if (this.held) this.announce(true, this.identity, `renewal failed (retrying): ${message}`);
      else this.announce(false, this.holder, `cannot read the lease: ${message}`);
      return false;
    }
  }

  private won(epoch: number): boolean {
    this.held = true;
    this.known = true;
    this.epoch = epoch;
    this.holder = this.identity;
    this.lastRenewOk = this.mono();
    this.announce(true, this.identity);
    return true;
  }

  private lost(holder: string): boolean {
    this.held = false;
    this.known = true;
    this.holder = holder;
    this.announce(false, holder);
    return false;
  }

  private announce(self: boolean, holder: string | null, message?: string): void {
    this.emit({ type: 'driver.status', at: this.o.now(), holder, self, ...(message ? { message } : {}) });
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'canary';
  }
}
