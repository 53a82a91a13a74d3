// The CanaryRollout custom resource: one per rollout, its spec written by people (the plan, or a
// ConfigMap holding it; overrides of the plan's target and traffic), its status written by the
// driver only, through the status subresource, always with the resourceVersion it read
// (argo-rollouts #4694/#4073/#3316: status patched without a precondition, and by people, is how
// rollouts get stuck). A 409 is re-read and retried; a status written by a newer driver (a higher
// Lease epoch) is never overwritten: the late writer is stale and stops.
import { KubeError, type KubeCluster } from '../kube/client.js';

export const GROUP = 'canary.dev';
export const VERSION = 'v1alpha1';
export const PLURAL = 'canaryrollouts';
export const KIND = 'CanaryRollout';
/** For messages and RBAC: the resource as `kubectl auth can-i` names it. */
export const RESOURCE = `${PLURAL}.${GROUP}`;
/** Where the CRD is, relative to the repository (and the image's /app). */
export const CRD_MANIFEST = 'deploy/base/crd.yaml';

/** The driver's identity in the Lease and the epoch it holds it in (the Lease's leaseTransitions). */
export interface DriverStamp {
  holder: string;
  epoch: number;
}

export interface JournalHead {
  seq: number;
  hash: string;
}

/** What the driver writes to `status` (small: the journal holds the history, the head anchors it). */
export interface CanaryRolloutStatus {
  /** The rollout's state word and phase: "Running", "canary-5"... */
  state: string;
  /** The plan's phase id, or null before the first phase. */
  phase: string | null;
  /** PHASE column: the phase id while traffic is on it, else the state (Pending, Completed, RolledBack), with "paused" when paused. */
  phaseDisplay: string;
  /** STEP column: "1/1". */
  step: string;
  weight: { set: number; confirmed: number | null; clusters: Record<string, number | null> };
  /** WEIGHT column: "5/5" (set/actual; "?" when not confirmed). */
  weightDisplay: string;
  approvals: { phase: string; role: string; by: string; at: string }[];
  checkpoint: { phase: string; title: string; dueAt: string } | null;
  incidents: { id: string; severity: string; summary: string; openedAt: string; ackedBy: string | null; nextPage: { roles: string[]; at: string } | null }[];
  /** VERDICT column, and why. */
  verdict: string;
  verdictExplanation: string;
  /** WAITING FOR column: a person, a checkpoint, a bake. */
  waitingFor: string;
  rollback: { reason: string; at: string } | null;
  driver: DriverStamp & { since: string };
  journal: JournalHead & { segments: number; firstSegment: number };
  /** The summary `canary status --json` prints (what the driver's engine says now). */
  summary: Record<string, unknown>;
  /** When this status was written (the driver's clock). */
  updatedAt: string;
}

export interface CanaryRolloutSpec {
  plan?: { inline?: string; configMapRef?: { name: string; key?: string } };
  target?: Record<string, unknown>;
  traffic?: Record<string, unknown>;
}

export interface CanaryRollout {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; generation?: number; creationTimestamp?: string; [k: string]: unknown };
  spec?: CanaryRolloutSpec;
  status?: Partial<CanaryRolloutStatus>;
}

/** Something in the cluster stops the driver; the message says what and what to do. */
export class ClusterStateError extends Error {
  constructor(
    message: string,
    readonly kind: 'crd-missing' | 'rollout-missing' | 'forbidden' | 'stale' | 'tampered' | 'unreachable' | 'plan' = 'tampered',
  ) {
    super(message);
    this.name = 'ClusterStateError';
  }
}

export function rolloutPath(namespace: string, name?: string): string {
  return `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

/** Turns the API server's answers about the CanaryRollout into what a person can act on. */
export async function explainRolloutError(cluster: KubeCluster, err: unknown, namespace: string, name: string): Promise<Error> {
  if (!(err instanceof KubeError)) return err instanceof Error ? err : new Error(String(err));
  if (err.status === 404) {
    // Which 404: the type (CRD not installed) or the object?
    let crd = true;
    try {
      await cluster.request('GET', `/apis/${GROUP}/${VERSION}`, { verb: 'get', resource: 'discovery', timeoutMs: 5_000 });
    } catch (e) {
      if (e instanceof KubeError && e.status === 404) crd = false;
    }
    if (!crd)
      return new ClusterStateError(
        `${cluster.name}: the CanaryRollout CRD (${RESOURCE}) is not installed in this cluster: apply ${CRD_MANIFEST} (kubectl apply -f ${CRD_MANIFEST}, or kubectl apply -k deploy/base), then retry`,
        'crd-missing',
      );
    return new ClusterStateError(
      `${cluster.name}: no CanaryRollout "${name}" in namespace ${namespace}: create it (kubectl apply -k deploy/overlays/<your rollout>, see deploy/overlays/maestro-conductor-rc), or check --namespace and the name`,
      'rollout-missing',
    );
  }
  if (err.status === 403) return new ClusterStateError(`${err.message}; see the Role in deploy/base/rbac.yaml`, 'forbidden');
  return err;
}

export interface StatusWriteOptions {
  /** Retries after a 409 (each after a fresh read). Default 8. */
  retries?: number;
  timeoutMs?: number;
}

/**
 * The CanaryRollout as the driver reads and writes it. Status writes are PUTs to the status
 * subresource carrying the resourceVersion last read: a 409 means someone wrote in between; the
 * object is read again and, unless a newer driver wrote it, the same status is written on the new
 * resourceVersion (the driver owns the whole status: nothing of another writer's is merged in).
 */
export class RolloutResource {
  private rv: string | undefined;
  /** The object as last read or written. */
  last: CanaryRollout | null = null;
  /** Status writes and 409s, for metrics and tests. */
  readonly stats = { writes: 0, conflicts: 0 };

  constructor(
    readonly cluster: KubeCluster,
    readonly namespace: string,
    readonly name: string,
  ) {}

  async get(timeoutMs = 5_000): Promise<CanaryRollout> {
    try {
      const obj = await this.cluster.request<CanaryRollout>('GET', rolloutPath(this.namespace, this.name), { verb: 'get', resource: RESOURCE, timeoutMs });
      this.rv = obj.metadata.resourceVersion;
      this.last = obj;
      return obj;
    } catch (err) {
      throw await explainRolloutError(this.cluster, err, this.namespace, this.name);
    }
  }

  /**
   * Writes `status` with a resourceVersion precondition, re-reading and retrying on 409. Refuses
   * (ClusterStateError 'stale') when the stored status was written by a driver of a later epoch.
   */
  async writeStatus(status: CanaryRolloutStatus, o: StatusWriteOptions = {}): Promise<CanaryRollout> {
    const retries = o.retries ?? 8;
    for (let attempt = 0; ; attempt++) {
      if (this.rv === undefined || this.last === null) await this.get();
      const stored = this.last!.status?.driver;
      if (stored && typeof stored.epoch === 'number' && stored.epoch > status.driver.epoch)
        throw new ClusterStateError(
          `CanaryRollout ${this.namespace}/${this.name}: its status was written by ${stored.holder} in lease epoch ${stored.epoch}; this driver (${status.driver.holder}) holds epoch ${status.driver.epoch} and is stale: its write is refused`,
          'stale',
        );
      const body: CanaryRollout = { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, metadata: { name: this.name, namespace: this.namespace, resourceVersion: this.rv! }, status };
      try {
        const obj = await this.cluster.request<CanaryRollout>('PUT', `${rolloutPath(this.namespace, this.name)}/status`, {
          verb: 'update',
          resource: `${RESOURCE}/status`,
          body,
          timeoutMs: o.timeoutMs ?? 5_000,
        });
        this.rv = obj.metadata.resourceVersion;
        this.last = obj;
        this.stats.writes += 1;
        return obj;
      } catch (err) {
        if (err instanceof KubeError && err.status === 409 && attempt < retries) {
          this.stats.conflicts += 1;
          this.rv = undefined; // read again, then write the same status on the fresh resourceVersion
          continue;
        }
        throw await explainRolloutError(this.cluster, err, this.namespace, this.name);
      }
    }
  }
}
