// The pods of a state, by key, shared between state versions. A change copies only the shards it
// touches (64 shards: ~47 pods each with 3,000 pods) instead of the whole Map: with 3,000 pods a
// delta of 5 pods copied 3,000 entries per event in the engine and again in every war-room viewer.
// Old tables never change, so a state keeps its pods however many states follow it.
// It is a ReadonlyMap (what views and the wire see). Iteration: shard by shard, each shard in
// insertion order; callers that need an order sort (components/pods.ts does).
import type { PodInfo } from './types.js';

const SHARDS = 64;
const EMPTY_SHARD: ReadonlyMap<string, PodInfo> = new Map();

function shardOf(key: string): number {
  // FNV-1a over the key's UTF-16 units: cheap, and spreads `region/ns/name` keys evenly.
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SHARDS;
}

export class PodTable implements ReadonlyMap<string, PodInfo> {
  static readonly EMPTY = new PodTable(new Array<ReadonlyMap<string, PodInfo>>(SHARDS).fill(EMPTY_SHARD), 0);

  private constructor(
    private readonly shards: readonly ReadonlyMap<string, PodInfo>[],
    readonly size: number,
  ) {}

  /** A table of these pods (a Map from an older state, a journal, the wire...). */
  static from(pods: Iterable<PodInfo> | ReadonlyMap<string, PodInfo>): PodTable {
    if (pods instanceof PodTable) return pods;
    const values = isMap(pods) ? pods.values() : pods;
    return PodTable.EMPTY.with([...values], []);
  }

  /** `deletes` removed, then `upserts` set; this same table when nothing changes. */
  with(upserts: readonly PodInfo[], deletes: readonly string[]): PodTable {
    if (upserts.length === 0 && deletes.length === 0) return this;
    const shards = this.shards.slice();
    const copied = new Set<number>();
    let size = this.size;
    const own = (i: number): Map<string, PodInfo> => {
      if (!copied.has(i)) {
        shards[i] = new Map(shards[i]!);
        copied.add(i);
      }
      return shards[i] as Map<string, PodInfo>;
    };
    for (const k of deletes) {
      const i = shardOf(k);
      if (!shards[i]!.has(k)) continue;
      own(i).delete(k);
      size -= 1;
    }
    for (const p of upserts) {
      const i = shardOf(p.key);
      const cur = shards[i]!;
      if (cur.get(p.key) === p) continue;
      if (!cur.has(p.key)) size += 1;
      own(i).set(p.key, p);
    }
    return copied.size ? new PodTable(shards, size) : this;
  }

  /** A whole region as a source now sees it: its old pods out, these in. */
  withRegion(region: string, pods: readonly PodInfo[]): PodTable {
    const gone: string[] = [];
    for (const s of this.shards) for (const [k, p] of s) if (p.region === region) gone.push(k);
    return this.with(pods, gone);
  }

  /** What changed from `prev` to this table: unchanged shards are skipped by identity. */
  changesSince(prev: ReadonlyMap<string, PodInfo>): { up: PodInfo[]; del: string[] } {
    const up: PodInfo[] = [];
    const del: string[] = [];
    if (!(prev instanceof PodTable)) {
      for (const [k, v] of this) if (prev.get(k) !== v) up.push(v);
      for (const k of prev.keys()) if (!this.has(k)) del.push(k);
      return { up, del };
    }
    for (let i = 0; i < SHARDS; i++) {
      const a = prev.shards[i]!;
      const b = this.shards[i]!;
      if (a === b) continue;
      for (const [k, v] of b) if (a.get(k) !== v) up.push(v);
      for (const k of a.keys()) if (!b.has(k)) del.push(k);
    }
    return { up, del };
  }

  get(key: string): PodInfo | undefined {
    return this.shards[shardOf(key)]!.get(key);
  }

  has(key: string): boolean {
    return this.shards[shardOf(key)]!.has(key);
  }

  *entries(): MapIterator<[string, PodInfo]> {
    for (const s of this.shards) yield* s.entries();
  }

  *keys(): MapIterator<string> {
    for (const s of this.shards) yield* s.keys();
  }

  *values(): MapIterator<PodInfo> {
    for (const s of this.shards) yield* s.values();
  }

  [Symbol.iterator](): MapIterator<[string, PodInfo]> {
    return this.entries();
  }

  forEach(fn: (value: PodInfo, key: string, map: ReadonlyMap<string, PodInfo>) => void, thisArg?: unknown): void {
    for (const s of this.shards) for (const [k, v] of s) fn.call(thisArg, v, k, this);
  }

  /** As a Map would be spread: [key, pod] pairs. */
  toJSON(): [string, PodInfo][] {
    return [...this.entries()];
  }
}

function isMap(x: unknown): x is ReadonlyMap<string, PodInfo> {
  return x instanceof Map || x instanceof PodTable;
}
