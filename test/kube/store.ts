// The object store behind the test API server: etcd plus the watch cache, in memory.
//
//  - One global resourceVersion (an integer, sent as a string); every write (create, update,
//    patch, delete) bumps it and stamps metadata.resourceVersion.
//  - Stored objects are never mutated: a write stores a new entry, so an entry held by the history
//    (or an open watch) stays as it was.
//  - The JSON of each stored object is rendered once (and its UTF-8 bytes on the first list), so a
//    list of 3,000 pods is one Buffer.concat, not 3,000 JSON.stringify calls; the object is parsed
//    back from that JSON only when something reads it.
//  - A bounded history of watch events (a ring, like the watch cache): a watch that resumes from a
//    resourceVersion still in it gets exactly the events after it; an older one is "too old"
//    (410 Expired), as is everything before a compact().
import { apiVersionOf, resourceKey } from './resources.js';
import type { ResourceDef } from './resources.js';

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
};

/**
 * One stored object. Its JSON is rendered once; the object itself is parsed from that JSON only
 * when something reads it (a field selector, a patch, the control API), so loading and listing
 * thousands of pods costs one JSON.stringify each. Key and labels are kept apart for lists and
 * label selectors. Never mutate `obj`: it is the stored state.
 */
export class StoredEntry {
  private parsed: KubeObject | undefined;
  /** itemJson as UTF-8, made on the first list that needs it. */
  itemBuffer: Buffer | undefined;

  constructor(
    readonly def: ResourceDef,
    /** JSON with kind and apiVersion (single GET, watch events). */
    readonly json: string,
    /** JSON as the item of a list: built-in lists leave out the items' kind/apiVersion, custom resource lists keep them. */
    readonly itemJson: string,
    readonly namespace: string | undefined,
    readonly name: string,
    readonly labels: Readonly<Record<string, string>>,
  ) {}

  get obj(): KubeObject {
    this.parsed ??= JSON.parse(this.json) as KubeObject;
    return this.parsed;
  }

  /** "namespace/name" (or "name"): the etcd key order of lists. */
  get key(): string {
    return this.namespace ? `${this.namespace}/${this.name}` : this.name;
  }
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  rv: number;
  type: EventType;
  /** The object after the write (for DELETED: the last state, stamped with the deletion's resourceVersion). */
  entry: StoredEntry;
  /** The object before the write (MODIFIED only), for selector transitions. */
  prev?: StoredEntry;
}

export type StoreListener = (ev: StoreEvent) => void;

function keyOf(ns: string | undefined, name: string): string {
  return ns ? `${ns}/${name}` : name;
}

/**
 * Renders an object with kind and apiVersion first, then the rest in its own order. What is stored
 * is that JSON (and a copy of the labels), so it shares nothing with what the caller passed.
 */
export function entryFor(def: ResourceDef, obj: KubeObject): StoredEntry {
  const { apiVersion: _a, kind: _k, ...rest } = obj;
  const restJson = JSON.stringify(rest);
  const head = `{"kind":${JSON.stringify(def.kind)},"apiVersion":${JSON.stringify(apiVersionOf(def))}`;
  const json = restJson === '{}' ? `${head}}` : `${head},${restJson.slice(1)}`;
  return new StoredEntry(def, json, def.builtIn ? restJson : json, obj.metadata.namespace, obj.metadata.name, { ...(obj.metadata.labels ?? {}) });
}

/** The UTF-8 bytes of an entry as a list item, kept with the entry (entries are replaced on every write). */
export function itemBytes(e: StoredEntry): Buffer {
  e.itemBuffer ??= Buffer.from(e.itemJson);
  return e.itemBuffer;
}

export class Store {
  private rv: number;
  private readonly types = new Map<string, Map<string, StoredEntry>>();
  /** Sorted keys per type, dropped on create/delete (lists are in etcd key order: namespace, then name). */
  private readonly sorted = new Map<string, string[]>();
  private readonly ring: (StoreEvent | undefined)[];
  private head = 0;
  private size = 0;
  /** The highest resourceVersion whose event is no longer in the history; a watch from below it is too old. */
  private compactedThrough: number;
  private readonly listeners = new Set<StoreListener>();

  constructor(startResourceVersion: number, readonly historySize: number) {
    this.rv = startResourceVersion;
    this.compactedThrough = startResourceVersion;
    this.ring = new Array<StoreEvent | undefined>(historySize);
  }

  get resourceVersion(): number {
    return this.rv;
  }

  /** A watch or exact list from `rv` is still served when every event after `rv` is in the history. */
  oldestResumable(): number {
    return this.compactedThrough;
  }

  nextResourceVersion(): number {
    this.rv += 1;
    return this.rv;
  }

  subscribe(fn: StoreListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get(def: ResourceDef, ns: string | undefined, name: string): StoredEntry | undefined {
    return this.types.get(resourceKey(def))?.get(keyOf(ns, name));
  }

  /** Entries of a type in key order, optionally in one namespace. */
  list(def: ResourceDef, ns?: string): StoredEntry[] {
    const rk = resourceKey(def);
    const m = this.types.get(rk);
    if (!m) return [];
    let keys = this.sorted.get(rk);
    if (!keys) {
      keys = [...m.keys()].sort();
      this.sorted.set(rk, keys);
    }
    const out: StoredEntry[] = [];
    const prefix = ns ? `${ns}/` : undefined;
    for (const k of keys) {
      if (prefix && !k.startsWith(prefix)) continue;
      const e = m.get(k);
      if (e) out.push(e);
    }
    return out;
  }

  count(def: ResourceDef): number {
    return this.types.get(resourceKey(def))?.size ?? 0;
  }

  /**
   * Stores `obj` (already validated and stamped with metadata.resourceVersion = rv by the caller,
   * which took rv from nextResourceVersion()) and records the event.
   */
  put(def: ResourceDef, obj: KubeObject, rv: number): StoredEntry {
    const rk = resourceKey(def);
    let m = this.types.get(rk);
    if (!m) {
      m = new Map();
      this.types.set(rk, m);
    }
    const k = keyOf(obj.metadata.namespace, obj.metadata.name);
    const prev = m.get(k);
    const entry = entryFor(def, obj);
    m.set(k, entry);
    if (!prev) this.sorted.delete(rk);
    this.record(prev ? { rv, type: 'MODIFIED', entry, prev } : { rv, type: 'ADDED', entry });
    return entry;
  }

  /** Removes an object; the DELETED event carries its last state stamped with the deletion's resourceVersion. */
  remove(def: ResourceDef, ns: string | undefined, name: string, rv: number): StoredEntry | undefined {
    const rk = resourceKey(def);
    const m = this.types.get(rk);
    const k = keyOf(ns, name);
    const prev = m?.get(k);
    if (!m || !prev) return undefined;
    m.delete(k);
    this.sorted.delete(rk);
    const last = entryFor(def, { ...prev.obj, metadata: { ...prev.obj.metadata, resourceVersion: String(rv) } });
    this.record({ rv, type: 'DELETED', entry: last });
    return last;
  }

  /** Drops every object of a type without events (a CRD being removed: its watches are closed instead). */
  dropType(def: ResourceDef): void {
    this.types.delete(resourceKey(def));
    this.sorted.delete(resourceKey(def));
  }

  /** Events after `rv` still in the history, oldest first (the caller checked rv >= oldestResumable()). */
  since(rv: number): StoreEvent[] {
    const out: StoreEvent[] = [];
    for (let i = 0; i < this.size; i++) {
      const ev = this.ring[(this.head + i) % this.historySize];
      if (ev && ev.rv > rv) out.push(ev);
    }
    return out;
  }

  /** Forgets the whole history: any resourceVersion before now is too old to resume from. */
  compact(): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.size = 0;
    this.compactedThrough = this.rv;
  }

  private record(ev: StoreEvent): void {
    if (this.historySize > 0) {
      if (this.size === this.historySize) {
        const dropped = this.ring[this.head];
        if (dropped) this.compactedThrough = dropped.rv;
        this.ring[this.head] = ev;
        this.head = (this.head + 1) % this.historySize;
      } else {
        this.ring[(this.head + this.size) % this.historySize] = ev;
        this.size += 1;
      }
    } else this.compactedThrough = ev.rv;
    for (const fn of this.listeners) fn(ev);
  }
}
