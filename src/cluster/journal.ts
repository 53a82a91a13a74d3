// The decision journal, kept in the cluster: chained ConfigMap segments, so that any machine can
// resume a rollout and `canary audit verify` it from the cluster alone.
//
// Segments: ConfigMaps `<rollout>-journal-<index, 5 digits>` in the rollout's namespace, labelled
// canary.dev/rollout=<rollout> and canary.dev/part=journal. Each holds entries as data keys
// (`<seq, 10 digits>` -> one JSON entry), so an append is a small merge patch that adds one key and
// carries the resourceVersion last written (a precondition: 409 when anyone else wrote). A segment
// is sealed once its entries pass `segmentBytes` (256 KiB: far under etcd's 1.5 MiB request limit,
// see the README for the quota math); the next one names the previous segment's last entry in its
// annotation canary.dev/prev (seq:hash), so the chain runs across segments. At most `maxSegments`
// are kept: beyond that the oldest is deleted, and the status records the first one kept
// (status.journal.firstSegment), so a pruned start is told from a deleted segment. Never Events:
// they expire after an hour.
//
// An entry (one data value):
//   {"seq","at","actor","event","driver":{holder,epoch},"state"|"delta":...,"inDoubt":[...],"prev","hash"}
//   hash = sha256(prev + canonicalJSON({seq, at, actor, event, driver, state|delta, inDoubt}))  (HMAC with a key)
// Every FULL_EVERY-th entry (and seq 0) carries the whole state snapshot; the others only the
// top-level fields that changed since the entry before (`delta`: set and unset), which keeps a
// typical entry near 1 KiB instead of 6-9 KiB: more decisions per segment, smaller patches.
// Seq 0 is the header: event {type:'journal.open', plan, planHash, version, alg, rollout} and the
// state the rollout starts from (a fresh one, or one imported from a local journal).
// Only decisions are journaled here (commands, approvals, signals, effect results, source health,
// anything that asked for an effect): not the per-minute samples, which Prometheus keeps. Each
// carries the snapshot after it, so the newest entry is what a new driver resumes from.
import { createHash, createHmac } from 'node:crypto';
import { KubeError, CONTENT, type KubeCluster } from '../kube/client.js';
import { canonicalJSON, parseLine } from '../journal/canonical.js';
import { isDecision, GENESIS, sha256Hex } from '../journal/journal.js';
import type { Plan } from '../plan/schema.js';
import type { Effect, EngineEvent, RolloutState } from '../engine/types.js';
import { inDoubt, snapshotOf, type Snapshot } from './snapshot.js';
import { ClusterStateError, type DriverStamp, type JournalHead } from './resource.js';

export const SEGMENT_BYTES = 256 * 1024;
export const MAX_SEGMENTS = 64;
export const LABEL_ROLLOUT = 'canary.dev/rollout';
export const LABEL_PART = 'canary.dev/part';
export const ANN_INDEX = 'canary.dev/segment';
export const ANN_PREV = 'canary.dev/prev';
export const ANN_SEALED = 'canary.dev/sealed';

export interface ClusterJournalOpen {
  type: 'journal.open';
  plan: string;
  planHash: string;
  version: 1;
  alg: 'sha256' | 'hmac-sha256';
  rollout: string;
}

export interface ClusterEntry {
  seq: number;
  at: number;
  actor: string;
  event: EngineEvent | ClusterJournalOpen;
  driver: DriverStamp;
  /** The whole snapshot (seq 0 and every FULL_EVERY-th entry)... */
  state?: Snapshot;
  /** ...or the top-level fields that changed since the entry before. */
  delta?: SnapshotDelta;
  inDoubt: Effect[];
  prev: string;
  hash: string;
}

export interface SnapshotDelta {
  set: Partial<Snapshot>;
  unset: string[];
}

export const FULL_EVERY = 16;

/** The top-level fields of `next` that differ from `prev`. */
export function diffSnapshot(prev: Snapshot, next: Snapshot): SnapshotDelta {
  const p = prev as unknown as Record<string, unknown>;
  const n = next as unknown as Record<string, unknown>;
  const set: Record<string, unknown> = {};
  for (const k of Object.keys(n)) if (!(k in p) || canonicalJSON(p[k]) !== canonicalJSON(n[k])) set[k] = n[k];
  return { set: set as Partial<Snapshot>, unset: Object.keys(p).filter((k) => !(k in n)) };
}

function applyDelta(prev: Snapshot, d: SnapshotDelta): Snapshot {
  const out = { ...(prev as unknown as Record<string, unknown>), ...(d.set as Record<string, unknown>) };
  for (const k of d.unset) delete out[k];
  return out as unknown as Snapshot;
}

/** The snapshot at each entry, rebuilt from the last whole one before it (null when it is not in the journal: pruned). */
export function snapshotsOf(entries: readonly ClusterEntry[]): Map<number, Snapshot | null> {
  const out = new Map<number, Snapshot | null>();
  let cur: Snapshot | null = null;
  for (const e of entries) {
    if (e.state) cur = e.state;
    else if (e.delta && cur) cur = applyDelta(cur, e.delta);
    else cur = null;
    out.set(e.seq, cur);
  }
  return out;
}

export interface SegmentInfo {
  index: number;
  name: string;
  resourceVersion: string;
  prev: JournalHead | null;
  sealed: boolean;
  bytes: number;
  entries: ClusterEntry[];
}

export interface ClusterProblem {
  kind: 'edited' | 'deleted' | 'corrupt' | 'truncated' | 'header' | 'key';
  /** The ConfigMap the problem is in (or where the missing one would be). */
  segment: string;
  seq: number | null;
  message: string;
}

export interface LoadedJournal {
  segments: SegmentInfo[];
  entries: ClusterEntry[];
  header: ClusterEntry | null;
  head: JournalHead | null;
  problems: ClusterProblem[];
  /** The first segment index kept (older ones were pruned by the bound). */
  firstSegment: number;
  /** The state snapshot at an entry (null: it cannot be rebuilt, its whole snapshot was pruned). */
  stateAt(seq: number): Snapshot | null;
}

export function segmentName(rollout: string, index: number): string {
  return `${rollout}-journal-${String(index).padStart(5, '0')}`;
}

function seqKey(seq: number): string {
  return String(seq).padStart(10, '0');
}

function keyBuffer(key: string | Buffer | undefined): Buffer | null {
  if (key === undefined || key.length === 0) return null;
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
}

function digest(prev: string, body: string, key: Buffer | null): string {
  return (key ? createHmac('sha256', key) : createHash('sha256')).update(prev).update(body).digest('hex');
}

export function clusterEntryBody(e: Omit<ClusterEntry, 'prev' | 'hash'>): string {
  return canonicalJSON({ seq: e.seq, at: e.at, actor: e.actor, event: e.event, driver: e.driver, ...(e.state ? { state: e.state } : {}), ...(e.delta ? { delta: e.delta } : {}), inDoubt: e.inDoubt });
}

function actorOf(event: EngineEvent | ClusterJournalOpen): string {
  return 'actor' in event ? event.actor.id : 'system';
}

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function cmPath(namespace: string, name?: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps${name ? `/${encodeURIComponent(name)}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// reading and verifying

/** Reads every segment of a rollout's journal and checks the chain; problems name the ConfigMap. */
export async function loadClusterJournal(
  cluster: KubeCluster,
  namespace: string,
  rollout: string,
  opts: { key?: string | Buffer; expected?: { head?: JournalHead | null; firstSegment?: number } } = {},
): Promise<LoadedJournal> {
  const list = await cluster.request<Raw>('GET', cmPath(namespace), {
    verb: 'list',
    resource: 'configmaps',
    query: { labelSelector: `${LABEL_ROLLOUT}=${rollout},${LABEL_PART}=journal` },
    timeoutMs: 10_000,
  });
  const key = keyBuffer(opts.key);
  const problems: ClusterProblem[] = [];
  const segments: SegmentInfo[] = [];
  for (const cm of (list.items ?? []) as Raw[]) {
    const ann = (cm.metadata?.annotations ?? {}) as Record<string, string>;
    const name = String(cm.metadata?.name);
    const index = Number(ann[ANN_INDEX]);
    if (!Number.isInteger(index) || index < 0) {
      problems.push({ kind: 'corrupt', segment: name, seq: null, message: `ConfigMap ${namespace}/${name}: no segment index annotation (${ANN_INDEX}): not a journal segment canary wrote` });
      continue;
    }
    const entries: ClusterEntry[] = [];
    let bytes = 0;
    const data = (cm.data ?? {}) as Record<string, string>;
    for (const k of Object.keys(data).sort()) {
      bytes += k.length + data[k]!.length;
      let e: ClusterEntry | null = null;
      try {
        e = parseLine(data[k]!) as ClusterEntry;
      } catch {
        e = null;
      }
      if (!e || typeof e !== 'object' || !Number.isSafeInteger(e.seq) || typeof e.hash !== 'string' || typeof e.prev !== 'string') {
        problems.push({ kind: 'corrupt', segment: name, seq: /^\d+$/.test(k) ? Number(k) : null, message: `segment ${name} (ConfigMap ${namespace}/${name}), key ${k}: not a journal entry` });
        continue;
      }
      if (seqKey(e.seq) !== k) problems.push({ kind: 'edited', segment: name, seq: e.seq, message: `segment ${name}, key ${k} holds seq ${e.seq}: moved or edited` });
      entries.push(e);
    }
    const prevText = ann[ANN_PREV];
    const m = prevText ? /^(\d+):([0-9a-f]{64})$/.exec(prevText) : null;
    segments.push({
      index,
      name,
      resourceVersion: String(cm.metadata?.resourceVersion ?? ''),
      prev: m ? { seq: Number(m[1]), hash: m[2]! } : null,
      sealed: ann[ANN_SEALED] === 'true',
      bytes,
      entries,
    });
  }
  segments.sort((a, b) => a.index - b.index);
  const firstSegment = segments[0]?.index ?? 0;
  const expectedFirst = opts.expected?.firstSegment ?? 0;
  // Segments missing from the run (deleted by someone), or from its start (not by the bound).
  if (segments.length && firstSegment > expectedFirst) {
    for (let i = expectedFirst; i < firstSegment; i++)
      problems.push({ kind: 'deleted', segment: segmentName(rollout, i), seq: null, message: `segment ${segmentName(rollout, i)} (ConfigMap ${namespace}/${segmentName(rollout, i)}) is missing: deleted (the status says the journal starts at segment ${expectedFirst})` });
  }
  for (let i = 1; i < segments.length; i++) {
    for (let j = segments[i - 1]!.index + 1; j < segments[i]!.index; j++)
      problems.push({ kind: 'deleted', segment: segmentName(rollout, j), seq: null, message: `segment ${segmentName(rollout, j)} (ConfigMap ${namespace}/${segmentName(rollout, j)}) is missing between ${segments[i - 1]!.name} and ${segments[i]!.name}: deleted` });
  }
  const entries: ClusterEntry[] = [];
  let header: ClusterEntry | null = null;
  let last: ClusterEntry | null = null;
  for (const seg of segments) {
    // The segment's link to the one before it.
    if (seg.index > 0) {
      if (!seg.prev) problems.push({ kind: 'edited', segment: seg.name, seq: null, message: `segment ${seg.name}: its ${ANN_PREV} annotation (the previous segment's head) is missing or malformed` });
      else if (last && (last.seq !== seg.prev.seq || last.hash !== seg.prev.hash) && !problems.some((p) => p.kind === 'deleted'))
        problems.push({ kind: 'edited', segment: seg.name, seq: seg.prev.seq, message: `segment ${seg.name} names seq ${seg.prev.seq} ${seg.prev.hash.slice(0, 12)}... as the previous head, but the journal before it ends at seq ${last.seq} ${last.hash.slice(0, 12)}...` });
    }
    let expectPrev = last ? last.hash : seg.index === firstSegment && seg.prev ? seg.prev.hash : GENESIS;
    let expectSeq = last ? last.seq + 1 : seg.index === firstSegment && seg.prev ? seg.prev.seq + 1 : 0;
    for (const e of seg.entries) {
      const at = `segment ${seg.name} (ConfigMap ${namespace}/${seg.name}), seq ${e.seq}`;
      if (e.seq !== expectSeq) {
        if (e.seq > expectSeq)
          problems.push({ kind: 'deleted', segment: seg.name, seq: expectSeq, message: `${at}: seq${e.seq - expectSeq > 1 ? `s ${expectSeq}-${e.seq - 1} are` : ` ${expectSeq} is`} missing before it: deleted` });
        else problems.push({ kind: 'edited', segment: seg.name, seq: e.seq, message: `${at}: out of order (expected seq ${expectSeq})` });
      }
      if (digest(e.prev, clusterEntryBody(e), key) !== e.hash) problems.push({ kind: key ? 'edited' : 'edited', segment: seg.name, seq: e.seq, message: `${at} does not match its hash: its content was changed after it was written` });
      else if (e.prev !== expectPrev && e.seq === expectSeq) problems.push({ kind: 'edited', segment: seg.name, seq: e.seq, message: `${at} is not chained to the entry before it: an entry before it was rewritten` });
      if (e.seq === 0) header = e;
      entries.push(e);
      last = e;
      expectPrev = e.hash;
      expectSeq = e.seq + 1;
    }
  }
  if (segments.length && !header && firstSegment === 0) problems.push({ kind: 'header', segment: segments[0]!.name, seq: 0, message: `segment ${segments[0]!.name}: no journal header (seq 0)` });
  const head = last ? { seq: last.seq, hash: last.hash } : null;
  // The head in the status anchors the chain: a journal that ends before it was cut short.
  const want = opts.expected?.head;
  if (want && !entries.some((e) => e.seq === want.seq && e.hash === want.hash)) {
    const segName = segments.at(-1)?.name ?? segmentName(rollout, 0);
    problems.push({
      kind: 'truncated',
      segment: segName,
      seq: want.seq,
      message: `the CanaryRollout's status names journal head seq ${want.seq} ${want.hash.slice(0, 12)}..., which is not in the journal (it ends at ${head ? `seq ${head.seq}` : 'nothing'}): entries or segments were removed or rewritten`,
    });
  }
  let states: Map<number, Snapshot | null> | null = null;
  const stateAt = (seq: number) => (states ??= snapshotsOf(entries)).get(seq) ?? null;
  return { segments, entries, header, head, problems, firstSegment, stateAt };
}

/** What `canary audit verify --rollout` prints. */
export function verifyText(namespace: string, rollout: string, j: LoadedJournal): string {
  const lines = [`journal of CanaryRollout ${namespace}/${rollout}: ${j.entries.length} entries in ${j.segments.length} segment(s)${j.firstSegment > 0 ? ` (segments before ${j.firstSegment} pruned by the bound)` : ''}`];
  lines.push(j.problems.length ? `chain: FAILED - ${j.problems.length} problem(s); the first:` : 'chain: OK - every entry hashes to its hash and links to the one before, across segments');
  for (const p of j.problems) lines.push(`  ${p.kind.toUpperCase()} in ${p.segment}${p.seq !== null ? `, seq ${p.seq}` : ''}: ${p.message}`);
  lines.push(j.head ? `head: seq ${j.head.seq} ${j.head.hash}` : 'head: none');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// writing

export interface ClusterJournalOptions {
  cluster: KubeCluster;
  namespace: string;
  rollout: string;
  /** Who writes, and in which lease epoch (read at each append: the lease can change hands). */
  stamp: () => DriverStamp;
  key?: string | Buffer;
  segmentBytes?: number;
  maxSegments?: number;
  /** Called after each successful write (latency in ms of that write), for metrics and the bench. */
  onWrite?: (ms: number, entries: number) => void;
  /** Called when a write fails (it is retried): the API server unreachable, a refusal. */
  onError?: (err: Error) => void;
}

interface OpenSegment {
  index: number;
  name: string;
  rv: string;
  bytes: number;
  count: number;
}

/**
 * Appends decisions to the cluster's journal. `append` is synchronous (the runtime calls it
 * between reduce and carrying the effects out): it chains the entry at once and queues it; a
 * background loop writes the queue in order. `durable()` resolves when everything appended so far
 * is in the cluster: actuators wait for it before they change traffic, so no decision acts before
 * it is journaled. A write refused because a driver of a later epoch wrote (stale) stops the
 * journal: `failed` says why, and every waiter is rejected.
 */
export class ClusterJournal {
  private queue: { seq: number; key: string; line: string; epoch: number; full: boolean }[] = [];
  private nextSeq: number;
  private prev: string;
  private durableSeq: number;
  private waiters: { seq: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private writing = false;
  private stopped = false;
  private open: OpenSegment | null;
  private firstSegment: number;
  private readonly effects = new Map<number, Effect>();
  /** The snapshot of the last entry appended (deltas are taken against it). */
  private lastSnap: Snapshot | null;
  /** The segment holding the newest whole snapshot. */
  private lastFullSegment = 0;
  private readonly key: Buffer | null;
  private readonly segmentBytes: number;
  private readonly maxSegments: number;
  failed: Error | null = null;
  /** Decisions appended since this writer started. */
  appended = 0;

  private constructor(
    private readonly o: ClusterJournalOptions,
    head: JournalHead,
    open: OpenSegment | null,
    firstSegment: number,
    known: Effect[],
    lastSnap: Snapshot | null,
  ) {
    this.lastSnap = lastSnap;
    this.nextSeq = head.seq + 1;
    this.prev = head.hash;
    this.durableSeq = head.seq;
    this.open = open;
    this.firstSegment = firstSegment;
    this.key = keyBuffer(o.key);
    this.segmentBytes = o.segmentBytes ?? SEGMENT_BYTES;
    this.maxSegments = Math.max(2, o.maxSegments ?? MAX_SEGMENTS);
    for (const e of known) this.effects.set(e.id, e);
  }

  /** Starts a new journal (segment 0 with its header). Refuses when one exists. */
  static async create(o: ClusterJournalOptions & { plan: Plan; planText: string; state: RolloutState }): Promise<ClusterJournal> {
    const key = keyBuffer(o.key);
    const header: ClusterJournalOpen = { type: 'journal.open', plan: o.plan.metadata.name, planHash: sha256Hex(o.planText), version: 1, alg: key ? 'hmac-sha256' : 'sha256', rollout: `${o.namespace}/${o.rollout}` };
    const base = { seq: 0, at: o.state.now, actor: 'system', event: header, driver: o.stamp(), state: snapshotOf(o.state), inDoubt: [] as Effect[] };
    const hash = digest(GENESIS, clusterEntryBody(base), key);
    const entry: ClusterEntry = { ...base, prev: GENESIS, hash };
    const name = segmentName(o.rollout, 0);
    const cm = await o.cluster.request<Raw>('POST', cmPath(o.namespace), {
      verb: 'create',
      resource: 'configmaps',
      body: segmentObject(o.namespace, o.rollout, 0, null, { [seqKey(0)]: canonicalJSON(entry) }),
      timeoutMs: 5_000,
    });
    return new ClusterJournal(o, { seq: 0, hash }, { index: 0, name, rv: String(cm.metadata?.resourceVersion), bytes: seqKey(0).length + canonicalJSON(entry).length, count: 1 }, 0, [], base.state);
  }

  /** Continues a journal that was loaded (and verified) by loadClusterJournal. */
  static attach(o: ClusterJournalOptions, loaded: LoadedJournal): ClusterJournal {
    const last = loaded.segments.at(-1);
    const head = loaded.head ?? { seq: -1, hash: GENESIS };
    const lastEntry = loaded.entries.at(-1);
    const open = last && !last.sealed ? { index: last.index, name: last.name, rv: last.resourceVersion, bytes: last.bytes, count: last.entries.length } : null;
    const j = new ClusterJournal(o, head, open, loaded.firstSegment, lastEntry?.inDoubt ?? [], lastEntry ? loaded.stateAt(lastEntry.seq) : null);
    if (!open && last) j.nextIndex = last.index + 1;
    for (const seg of loaded.segments) if (seg.entries.some((e) => e.state)) j.lastFullSegment = seg.index;
    return j;
  }

  private nextIndex = 0;

  get head(): JournalHead {
    return { seq: this.nextSeq - 1, hash: this.prev };
  }

  /** The head that is in the cluster now. */
  get durableHead(): number {
    return this.durableSeq;
  }

  get segments(): { count: number; first: number } {
    const lastIndex = this.open?.index ?? this.nextIndex - 1;
    return { count: Math.max(0, lastIndex - this.firstSegment + 1), first: this.firstSegment };
  }

  /** The runtime's journal hook: decisions are chained and queued; other events are left out. */
  append(event: EngineEvent, state: RolloutState, effects: readonly Effect[] = []): { seq: number; hash: string } | null {
    for (const e of effects) if (e.type === 'set-weight' || e.type === 'rollback') this.effects.set(e.id, e);
    if (!isDecision(event, effects)) return null;
    if (this.failed) throw this.failed;
    for (const id of [...this.effects.keys()]) if (!(id in state.pending)) this.effects.delete(id);
    const stamp = this.o.stamp();
    const snap = snapshotOf(state);
    const whole = this.nextSeq % FULL_EVERY === 0 || this.lastSnap === null;
    const base = { seq: this.nextSeq, at: event.at, actor: actorOf(event), event, driver: stamp, ...(whole ? { state: snap } : { delta: diffSnapshot(this.lastSnap!, snap) }), inDoubt: inDoubt(state, this.effects) };
    this.lastSnap = snap;
    const hash = digest(this.prev, clusterEntryBody(base), this.key);
    const line = canonicalJSON({ ...base, prev: this.prev, hash });
    this.queue.push({ seq: base.seq, key: seqKey(base.seq), line, epoch: stamp.epoch, full: whole });
    this.nextSeq += 1;
    this.prev = hash;
    this.appended += 1;
    void this.pump();
    return { seq: base.seq, hash };
  }

  /** Resolves when every entry appended so far is in the cluster. */
  durable(): Promise<void> {
    const seq = this.nextSeq - 1;
    if (this.durableSeq >= seq) return Promise.resolve();
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /** Stops writing; entries not yet in the cluster are dropped (and counted in the return value). */
  stop(): number {
    this.stopped = true;
    const dropped = this.queue.length;
    this.queue = [];
    const err = new Error('the cluster journal was stopped');
    for (const w of this.waiters.splice(0)) w.reject(err);
    return dropped;
  }

  private async pump(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    let backoff = 250;
    try {
      while (this.queue.length && !this.stopped && !this.failed) {
        const batch = this.fitting(this.queue.slice(0, 64));
        const t0 = performance.now();
        try {
          await this.writeBatch(batch);
          this.o.onWrite?.(performance.now() - t0, batch.length);
          backoff = 250;
          this.queue.splice(0, batch.length);
          this.durableSeq = batch.at(-1)!.seq;
          this.waiters = this.waiters.filter((w) => {
            if (w.seq > this.durableSeq) return true;
            w.resolve();
            return false;
          });
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          if (e instanceof ClusterStateError) {
            this.failed = e;
            for (const w of this.waiters.splice(0)) w.reject(e);
            this.o.onError?.(e);
            return;
          }
          this.o.onError?.(e);
          await new Promise((r) => setTimeout(r, backoff).unref());
          backoff = Math.min(backoff * 2, 2_000);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** The head of the queue that fits in one segment write: what fits in the open segment, or (when
   * not even the first entry fits there) what fits in a fresh one; always at least one entry. */
  private fitting<T extends { key: string; line: string }>(items: T[]): T[] {
    const room = this.open && this.open.count > 0 ? this.segmentBytes - this.open.bytes : this.segmentBytes;
    const first = items[0]!.key.length + items[0]!.line.length;
    const limit = first > room ? this.segmentBytes : room;
    let n = 0;
    let bytes = 0;
    for (const it of items) {
      const b = it.key.length + it.line.length;
      if (n > 0 && bytes + b > limit) break;
      bytes += b;
      n += 1;
    }
    return items.slice(0, n);
  }

  private async writeBatch(batch: { seq: number; key: string; line: string; epoch: number; full: boolean }[]): Promise<void> {
    const bytes = batch.reduce((n, b) => n + b.key.length + b.line.length, 0);
    if (this.open && this.open.count > 0 && this.open.bytes + bytes > this.segmentBytes) await this.seal();
    if (!this.open) {
      await this.createSegment(batch, bytes);
      return;
    }
    const seg = this.open;
    const body = { metadata: { resourceVersion: seg.rv }, data: Object.fromEntries(batch.map((b) => [b.key, b.line])) };
    try {
      const cm = await this.o.cluster.request<Raw>('PATCH', cmPath(this.o.namespace, seg.name), { verb: 'patch', resource: 'configmaps', body, contentType: CONTENT.merge, timeoutMs: 5_000 });
      seg.rv = String(cm.metadata?.resourceVersion);
      seg.bytes += bytes;
      seg.count += batch.length;
      if (batch.some((b) => b.full)) this.lastFullSegment = seg.index;
    } catch (err) {
      if (err instanceof KubeError && (err.status === 409 || err.status === 404)) await this.reconcile(seg, batch, err);
      else throw err;
    }
  }

  /** After a 409/404 on our segment: our own write that we did not hear back from, or someone else's. */
  private async reconcile(seg: OpenSegment, batch: { seq: number; key: string; line: string; epoch: number }[], err: KubeError): Promise<void> {
    let cm: Raw;
    try {
      cm = await this.o.cluster.request<Raw>('GET', cmPath(this.o.namespace, seg.name), { verb: 'get', resource: 'configmaps', timeoutMs: 5_000 });
    } catch (e) {
      if (e instanceof KubeError && e.status === 404)
        throw new ClusterStateError(`journal segment ${seg.name} (ConfigMap ${this.o.namespace}/${seg.name}) was deleted while this driver wrote to it: refusing to go on; run \`canary audit verify --rollout ${this.o.rollout}\``, 'tampered');
      throw e;
    }
    const data = (cm.data ?? {}) as Record<string, string>;
    const keys = Object.keys(data).sort();
    const lastKey = keys.at(-1);
    const lastEntry = lastKey ? (parseLine(data[lastKey]!) as ClusterEntry) : null;
    const mine = batch.at(-1)!;
    if (lastKey === mine.key && data[lastKey] === mine.line) {
      // Our write went through; we only missed the answer.
      seg.rv = String(cm.metadata?.resourceVersion);
      seg.bytes += batch.reduce((n, b) => n + b.key.length + b.line.length, 0);
      seg.count += batch.length;
      return;
    }
    if (lastEntry && lastEntry.driver && lastEntry.driver.epoch > mine.epoch)
      throw new ClusterStateError(
        `journal segment ${seg.name}: entry seq ${lastEntry.seq} was written by ${lastEntry.driver.holder} in lease epoch ${lastEntry.driver.epoch}; this driver's epoch is ${mine.epoch}: it is stale, its write is refused`,
        'stale',
      );
    if (keys.length && lastKey !== seqKey(batch[0]!.seq - 1))
      throw new ClusterStateError(`journal segment ${seg.name} changed under this driver (${err.status}): it ends at key ${lastKey ?? 'none'}, this driver's last entry is seq ${batch[0]!.seq - 1}; refusing to go on`, 'tampered');
    seg.rv = String(cm.metadata?.resourceVersion); // only metadata changed (a label, a person's annotation): write again
    throw new Error(`journal segment ${seg.name}: ${err.status}, retrying on the fresh resourceVersion`);
  }

  private async seal(): Promise<void> {
    const seg = this.open!;
    const cm = await this.o.cluster.request<Raw>('PATCH', cmPath(this.o.namespace, seg.name), {
      verb: 'patch',
      resource: 'configmaps',
      body: { metadata: { resourceVersion: seg.rv, annotations: { [ANN_SEALED]: 'true' } } },
      contentType: CONTENT.merge,
      timeoutMs: 5_000,
    });
    seg.rv = String(cm.metadata?.resourceVersion);
    this.nextIndex = seg.index + 1;
    this.open = null;
  }

  private async createSegment(batch: { seq: number; key: string; line: string; full: boolean }[], bytes: number): Promise<void> {
    const index = this.nextIndex;
    const name = segmentName(this.o.rollout, index);
    const prev = { seq: batch[0]!.seq - 1, hash: (parseLine(batch[0]!.line) as ClusterEntry).prev };
    const body = segmentObject(this.o.namespace, this.o.rollout, index, prev, Object.fromEntries(batch.map((b) => [b.key, b.line])));
    let cm: Raw;
    try {
      cm = await this.o.cluster.request<Raw>('POST', cmPath(this.o.namespace), { verb: 'create', resource: 'configmaps', body, timeoutMs: 5_000 });
    } catch (err) {
      if (!(err instanceof KubeError && err.status === 409)) throw err;
      // Already there: our own create we did not hear back from, or another driver's.
      const cur = await this.o.cluster.request<Raw>('GET', cmPath(this.o.namespace, name), { verb: 'get', resource: 'configmaps', timeoutMs: 5_000 });
      const mine = batch.at(-1)!;
      if ((cur.data ?? {})[mine.key] !== mine.line) throw new ClusterStateError(`journal segment ${name} was created by another driver: this one is stale; its write is refused`, 'stale');
      cm = cur;
    }
    this.open = { index, name, rv: String(cm.metadata?.resourceVersion), bytes, count: batch.length };
    this.nextIndex = index + 1;
    if (batch.some((b) => b.full)) this.lastFullSegment = index;
    // The bound: delete the oldest beyond maxSegments (the status records where the journal
    // starts), never the one holding the newest whole snapshot (the state is rebuilt from it).
    while (index - this.firstSegment + 1 > this.maxSegments && this.firstSegment < this.lastFullSegment) {
      const old = segmentName(this.o.rollout, this.firstSegment);
      try {
        await this.o.cluster.request('DELETE', cmPath(this.o.namespace, old), { verb: 'delete', resource: 'configmaps', timeoutMs: 5_000 });
      } catch (err) {
        if (!(err instanceof KubeError && err.status === 404)) throw err;
      }
      this.firstSegment += 1;
    }
  }
}

function segmentObject(namespace: string, rollout: string, index: number, prev: JournalHead | null, data: Record<string, string>): Raw {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: segmentName(rollout, index),
      namespace,
      labels: { [LABEL_ROLLOUT]: rollout, [LABEL_PART]: 'journal', 'app.kubernetes.io/managed-by': 'canary' },
      annotations: { [ANN_INDEX]: String(index), [ANN_SEALED]: 'false', ...(prev ? { [ANN_PREV]: `${prev.seq}:${prev.hash}` } : {}) },
    },
    data,
  };
}
