// The journal: every event that changed the rollout, one JSON object a line, each line chained to
// the one before by a hash (HMAC-SHA256 when a key is given). It is the only memory: the audit
// trail, crash recovery (`resume`), `replay` and the retrospective (`report`) all read it again.
//
// A line:  {"seq":n,"at":<event.at>,"actor":"<id>|system","event":{...},"prev":"<hex>","hash":"<hex>"}
//   hash = sha256(prev + canonicalJSON({seq, at, actor, event}))   (or HMAC-SHA256(key, same))
//   prev = the previous line's hash, "0" x 64 for the first line.
// Line 1 (seq 0) is the header: event {type:'journal.open', plan, planHash, version: 1, alg, rules}; its
// `at` is the time the engine's initial state starts at, so replay = reduce every event from
// initialState(plan, header.at) under the header's rules (rulesOf).
//
// What is journaled: every event the engine consumed, in the order it consumed them, except
//  - a `tick` (or a `pods.*` event, see below) whose reduce changed nothing but time - `now`,
//    the bake counters and the derived `holds` - and asked for no effect. Such an event is
//    equivalent to the time advance of whatever event comes next (reduce adds bake time by
//    intervals, and decides only on the state, which it left unchanged), so leaving it out
//    replays to the very same state. When the next journaled event is stamped earlier than the
//    time the skipped ones reached (a late sample), a tick at that time is written first; `close`
//    writes one too, so a closed journal ends at the live `now`. This needs the state: without
//    it (append(event) alone) every tick is journaled.
//  - `pods.*`: not journaled by default (`includePods: false`). A pods event that moved anything
//    else (time reached a checkpoint...) is journaled as a `tick` at the same time, which does
//    exactly the same to everything but `pods`/`podsVersion`. Replay therefore equals the live
//    state minus pods (see `comparableState`). `includePods: true` journals them whole.
//  - `sli.samples` are journaled as they are, one line per batch: the engine's decisions depend
//    on them and replay must be exact.
//
// Durability: a decision (command, approval, signal, effect result, source status, or any event
// whose reduce asked for an effect - an automatic rollback arrives as a sample) is written and
// fsynced before `append` returns; the runtime appends before it carries the effects out. Other
// lines (samples, ticks that moved analysis) are batched and fsynced at most `flushEveryMs` later;
// a crash can lose that batch, never a decision, and the chain on disk stays whole.
//
// The file under the writer: before each write the writer compares the file it holds open with
// the file at its path (fstat of the fd against stat of the path: device, inode, and the size it
// expects from what it wrote). A journal replaced (sed -i, an editor, logrotate's rename), removed,
// truncated (truncate -s 0, copytruncate) or written by someone else is noticed before the next
// write, and so before the next decision acts: the writer stops (a JournalLostError, carrying what
// happened, for the runtime to tell the engine: the rollout holds), and when the file it wrote is
// still whole (only its path changed) saves it as `<journal>.saved-<seq>`. A write that fails
// (a full disk) is the same loss. Cost: two stat calls per write (see the README).
import { createHash, createHmac } from 'node:crypto';
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Plan } from '../plan/schema.js';
import { ENGINE_RULES, initialState, reduce } from '../engine/reduce.js';
import { seriesTimes, seriesValues } from '../engine/series.js';
import type { Effect, EngineEvent, JournalLossInfo, RolloutState, Series } from '../engine/types.js';
import { canonicalJSON, parseLine } from './canonical.js';
import { printable } from '../plan/printable.js';

export const JOURNAL_VERSION = 1;
export const GENESIS = '0'.repeat(64);

export type JournalAlg = 'sha256' | 'hmac-sha256';

/** The header's event: a journal-only record, never given to the engine. */
export interface JournalOpen {
  type: 'journal.open';
  plan: string;
  /** sha256 of the plan file's text. */
  planHash: string;
  version: 1;
  alg: JournalAlg;
  /** The engine's evidence rules the rollout runs under (RolloutState.rules); absent in journals
   * written before there was more than one: those replay under rules 1, as they ran. */
  rules?: number;
}

/** The rules a journal's entries are reduced under. */
export const rulesOf = (header: JournalHeader): number => header.event.rules ?? 1;

export interface JournalEntry<E = EngineEvent> {
  seq: number;
  at: number;
  actor: string;
  event: E;
  prev: string;
  hash: string;
  /** 1-based line in the file. */
  line: number;
}
export type JournalHeader = JournalEntry<JournalOpen>;

export type ProblemKind =
  | 'edited' // an entry's content (or a hash) was changed
  | 'deleted' // one or more seqs are missing from the chain
  | 'reordered' // entries are not in seq order
  | 'duplicated' // an entry appears twice
  | 'corrupt' // a line that is not a journal entry, before the end of the file
  | 'header' // no (valid) header line
  | 'key' // keyed journal without key, key given to an unkeyed journal, wrong key
  | 'truncated'; // the recorded head is not in the chain

export interface Problem {
  kind: ProblemKind;
  line: number;
  seq: number | null;
  message: string;
}

/** Bytes at the end of the file that are not a whole entry: a write cut short by a crash. */
export interface Torn {
  /** 1-based line where it starts. */
  line: number;
  /** Byte offset where it starts (the file is good up to here). */
  offset: number;
  bytes: number;
  /** The bytes as text (UTF-8, damaged characters replaced). */
  text: string;
  /** The seq it carries if that much was written, else the seq it would have had. */
  seq: number;
}

export interface KeyOption {
  /** HMAC key (the CLI reads CANARY_JOURNAL_KEY). Without it lines are chained with plain SHA-256. */
  key?: string | Buffer;
}

export class JournalError extends Error {
  constructor(
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
    this.name = 'JournalError';
  }
}

/** What happened to a journal that can no longer be written, as the runtime hands it to the
 * engine (a `journal.lost` event) and the commands print it at exit. */
export type JournalLoss = JournalLossInfo;

/** The journal cannot be written any more (see the note at the top). */
export class JournalLostError extends JournalError {
  constructor(readonly loss: JournalLoss) {
    super(`journal ${loss.path}: ${loss.reason}; canary stopped writing it after seq ${loss.lastSeq}${loss.saved ? ` (the journal as canary wrote it is saved in ${loss.saved})` : ''}`);
    this.name = 'JournalLostError';
  }
}

// ---------------------------------------------------------------------------------------------
// hashing

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

function digest(prev: string, body: string, key: Buffer | null): string {
  return (key ? createHmac('sha256', key) : createHash('sha256')).update(prev).update(body).digest('hex');
}

function keyBuffer(key: string | Buffer | undefined): Buffer | null {
  if (key === undefined || key.length === 0) return null;
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
}

/** The text an entry's hash covers: canonicalJSON({seq, at, actor, event}). */
export function entryBody(e: { seq: number; at: number; actor: string; event: unknown }): string {
  return canonicalJSON({ seq: e.seq, at: e.at, actor: e.actor, event: e.event });
}

export function entryHash(prev: string, e: { seq: number; at: number; actor: string; event: unknown }, key?: string | Buffer): string {
  return digest(prev, entryBody(e), keyBuffer(key));
}

function actorOf(event: EngineEvent): string {
  return 'actor' in event ? event.actor.id : 'system';
}

/** Events that are decisions: on disk (fsync) before `append` returns. */
export function isDecision(event: EngineEvent, effects: readonly Effect[] = []): boolean {
  switch (event.type) {
    case 'command':
    case 'approve':
    case 'signal':
    case 'effect.result':
    case 'source.status':
      return true;
    default:
      return effects.length > 0;
  }
}

const TIME_FIELDS = new Set<string>(['now', 'stepBakeMs', 'phaseBakeMs', 'holds', 'pods', 'podsVersion']);

/** Did this reduce change nothing but time (and pods)? Such an event need not be journaled. */
export function timeOnly(prev: RolloutState, next: RolloutState): boolean {
  const p = prev as unknown as Record<string, unknown>;
  const n = next as unknown as Record<string, unknown>;
  for (const k of Object.keys(n)) {
    if (TIME_FIELDS.has(k)) continue;
    if (!deepEqual(p[k], n[k])) return false;
  }
  return Object.keys(p).length === Object.keys(n).length;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], bb[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao);
  if (ak.length !== Object.keys(bo).length) return false;
  for (const k of ak) if (!(k in bo) || !deepEqual(ao[k], bo[k])) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// writing

export interface WriterOptions extends KeyOption {
  plan: Plan;
  /** The plan file's text, hashed into the header. */
  planText: string;
  /** The time the engine's initial state starts at: initialState(plan, start). */
  start: number;
  /** Non-decision lines are fsynced at most this long (real ms) after they were appended. 0: at once. */
  flushEveryMs?: number;
  /** Journal pods.* events whole (default false: see the note at the top). */
  includePods?: boolean;
  /** Write in pieces of at most this many bytes (tests use it to widen the window in which a kill
   * tears a line). 0 or absent: one write per batch. */
  chunkBytes?: number;
}

export type AttachOptions = Omit<WriterOptions, 'plan' | 'planText' | 'start'>;

export interface Appended {
  seq: number;
  hash: string;
  type: string;
  /** On disk (fsynced) when append returned. */
  durable: boolean;
}

export interface WriterStats {
  /** Lines written by this writer (the header included when it wrote it). */
  entries: number;
  bytes: number;
  fsyncs: number;
  /** Ticks left out because they changed nothing but time. */
  elidedTicks: number;
  /** pods.* events left out, or journaled as ticks. */
  podsSkipped: number;
}

export class JournalWriter {
  private buffer: string[] = [];
  private bufferedSince = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private failed: Error | null = null;
  /** Set when the file under the writer changed or a write failed: nothing more is written. */
  lost: JournalLoss | null = null;
  /** The file the writer holds open, and its size once everything written so far is there. */
  private file: { dev: number; ino: number; size: number };
  private pendingTickAt: number | null = null;
  private readonly flushEveryMs: number;
  private readonly includePods: boolean;
  private readonly chunkBytes: number;
  readonly stats: WriterStats = { entries: 0, bytes: 0, fsyncs: 0, elidedTicks: 0, podsSkipped: 0 };

  private constructor(
    readonly path: string,
    private fd: number,
    private nextSeq: number,
    private prev: string,
    private readonly key: Buffer | null,
    opts: AttachOptions,
    private lastState: RolloutState | null,
  ) {
    this.flushEveryMs = opts.flushEveryMs ?? 1000;
    this.includePods = opts.includePods ?? false;
    this.chunkBytes = opts.chunkBytes ?? 0;
    const st = fstatSync(fd);
    this.file = { dev: st.dev, ino: st.ino, size: st.size };
  }

  /** Starts a new journal at `path` (refuses to overwrite one) and writes its header, fsynced. */
  static async open(path: string, opts: WriterOptions): Promise<JournalWriter> {
    return JournalWriter.openSync(path, opts);
  }

  static openSync(path: string, opts: WriterOptions): JournalWriter {
    let fd: number;
    try {
      fd = openSync(path, 'ax+'); // + : a lost journal's bytes are read back to save them
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST')
        throw new JournalError(`${path}: a journal already exists; resume it (canary start --journal ${path}) or choose another file`);
      throw err;
    }
    const key = keyBuffer(opts.key);
    const w = new JournalWriter(path, fd, 0, GENESIS, key, opts, initialState(opts.plan, opts.start));
    try {
      const header: JournalOpen = { type: 'journal.open', plan: opts.plan.metadata.name, planHash: sha256Hex(opts.planText), version: JOURNAL_VERSION, alg: key ? 'hmac-sha256' : 'sha256', rules: ENGINE_RULES };
      w.write(opts.start, 'system', header, true);
      fsyncDir(path);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return w;
  }

  /** Continues a journal whose last good entry is `last` (resume calls this after checking it). */
  static attach(path: string, last: { seq: number; hash: string }, state: RolloutState | null, opts: AttachOptions = {}): JournalWriter {
    const fd = openSync(path, 'a+');
    return new JournalWriter(path, fd, last.seq + 1, last.hash, keyBuffer(opts.key), opts, state);
  }

  /** The last entry appended (it may still be in the batch: see `durable`). */
  get head(): { seq: number; hash: string } {
    return { seq: this.nextSeq - 1, hash: this.prev };
  }

  /**
   * Journals an event the engine consumed. Call it after reduce and before carrying out the
   * effects: a decision is on disk when this returns. With `state` (the state after the event)
   * ticks that changed nothing but time are left out; `effects` are the ones reduce asked for.
   * Returns null when the event was left out. Throws when the journal cannot be written: the
   * caller must not act on a decision that is not journaled.
   */
  append(event: EngineEvent, state?: RolloutState, effects: readonly Effect[] = []): Appended | null {
    if (this.lost) throw new JournalLostError(this.lost);
    if (this.failed) throw new JournalError(`journal ${this.path} failed earlier (${this.failed.message}); refusing to go on without it`);
    if (this.closed) throw new JournalError(`journal ${this.path} is closed`);
    const before = this.lastState;
    if (state) this.lastState = state;
    let ev: EngineEvent = event;
    if ((event.type === 'pods.sync' || event.type === 'pods.delta') && !this.includePods) {
      this.stats.podsSkipped += 1;
      if (state && before) {
        if (effects.length === 0 && timeOnly(before, state)) {
          this.pendingTickAt = state.now;
          return null;
        }
        ev = { type: 'tick', at: state.now };
      } else ev = { type: 'tick', at: event.at };
    } else if (event.type === 'tick' && state && before && effects.length === 0 && timeOnly(before, state)) {
      this.stats.elidedTicks += 1;
      this.pendingTickAt = state.now;
      return null;
    }
    // The entry's time is when the engine took the event in (its clock, which never goes back), so
    // the journal reads in time order; an event's own time (a sample's minute, a late source's
    // report) stays in the event as data.
    const at = state ? Math.max(state.now, ev.at) : ev.at;
    // A late event is applied at the engine's `now`: the left-out tick that moved time goes first, so replay does the same.
    if (this.pendingTickAt !== null && ev.at < this.pendingTickAt) this.write(this.pendingTickAt, 'system', { type: 'tick', at: this.pendingTickAt }, false);
    this.pendingTickAt = null;
    return this.write(at, actorOf(ev), ev, isDecision(ev, effects));
  }

  /** Writes and fsyncs whatever is batched. */
  flush(): void {
    this.flushChecked(false);
  }

  private flushChecked(checked: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.lost) throw new JournalLostError(this.lost);
    if (!this.buffer.length) return;
    if (!checked) this.checkFile();
    const data = Buffer.from(this.buffer.join(''), 'utf8');
    try {
      writeAll(this.fd, data, this.chunkBytes);
      fsyncSync(this.fd);
    } catch (err) {
      this.failed = err instanceof Error ? err : new Error(String(err));
      this.lose('write-failed', `writing it failed: ${this.failed.message}`, false);
    }
    this.buffer = [];
    this.file.size += data.length;
    this.stats.bytes += data.length;
    this.stats.fsyncs += 1;
  }

  /** Is the file at the path still the one this writer holds open, as it left it? Throws a
   * JournalLostError saying what happened when not. Two stat calls. */
  checkFile(): void {
    if (this.lost) throw new JournalLostError(this.lost);
    const open = fstatSync(this.fd);
    let at: ReturnType<typeof statSync> | undefined;
    let why = '';
    try {
      at = statSync(this.path, { throwIfNoEntry: false });
    } catch (err) {
      why = ` (${(err as NodeJS.ErrnoException).code ?? String(err)})`; // its directory made unreadable...
    }
    const f = this.file;
    const intact = open.dev === f.dev && open.ino === f.ino && open.size === f.size;
    if (!at) return this.lose('removed', `the journal file was removed or renamed while canary wrote it${why || ' (logrotate, a person?)'}`, intact);
    if (at.dev !== f.dev || at.ino !== f.ino)
      return this.lose('replaced', 'another file is at its path now: the journal was replaced while canary wrote it (sed -i, an editor, logrotate?)', intact);
    if (open.size < f.size)
      return this.lose('truncated', `it was truncated while canary wrote it: ${open.size} bytes, canary had written ${f.size} (truncate, logrotate copytruncate?); the entries cut off are gone from it`, false);
    if (open.size > f.size) return this.lose('grew', `it grew by ${open.size - f.size} bytes that this canary did not write: another process writes to it`, true);
  }

  /** Stops writing for good: records what happened, saves the journal as this writer wrote it when
   * that file is still whole, and throws. */
  private lose(kind: JournalLoss['kind'], reason: string, intact: boolean): never {
    // The lines of the batch are in the saved copy, not in the file (a failed write: in neither).
    const lastSeq = this.nextSeq - 1 - (kind === 'write-failed' ? this.buffer.length : 0);
    let saved: string | null = null;
    if (intact) {
      try {
        saved = this.saveCopy(lastSeq);
      } catch {
        saved = null;
      }
    }
    const todo =
      saved ? `check it (canary audit verify ${saved}), put it back (mv ${saved} ${this.path}) and start canary again on it to resume; decisions after seq ${lastSeq} are not in any journal`
      : kind === 'truncated' ? `restore the journal from a copy (a backup, logrotate's rotated file) if there is one and start canary again on it; canary audit verify ${this.path} says what is left; decisions after seq ${lastSeq} are not in any journal`
      : `find out what happened to ${this.path}; decisions after seq ${lastSeq} are not in any journal; start canary again with --journal <new file> for a new record`;
    this.lost = { kind, path: this.path, reason, lastSeq, saved, todo };
    this.buffer = [];
    throw new JournalLostError(this.lost);
  }

  /** The journal as this writer wrote it (the open file's bytes, then the batch not yet written, up
   * to seq `lastSeq`), fsynced, beside it as `<journal>.saved-<seq>`. */
  private saveCopy(lastSeq: number): string {
    let target = `${this.path}.saved-${lastSeq}`;
    for (let n = 2; existsSync(target); n++) target = `${this.path}.saved-${lastSeq}.${n}`;
    const out = openSync(target, 'wx');
    try {
      const chunk = Buffer.alloc(1 << 20);
      for (let off = 0; off < this.file.size; ) {
        const n = readSync(this.fd, chunk, 0, Math.min(chunk.length, this.file.size - off), off);
        if (n <= 0) break;
        writeAll(out, chunk.subarray(0, n), 0);
        off += n;
      }
      if (this.buffer.length) writeAll(out, Buffer.from(this.buffer.join(''), 'utf8'), 0);
      fsyncSync(out);
    } finally {
      closeSync(out);
    }
    fsyncDir(target);
    return target;
  }

  /** Writes a last tick (so the journal ends at the live time), flushes and closes. */
  close(): void {
    if (this.closed) return;
    try {
      if (!this.failed && !this.lost) {
        try {
          if (this.pendingTickAt !== null) this.write(this.pendingTickAt, 'system', { type: 'tick', at: this.pendingTickAt }, false);
          this.pendingTickAt = null;
          // The last look at the file: a journal replaced while nothing was written is said at exit too.
          if (this.buffer.length) this.flush();
          else this.checkFile();
        } catch (err) {
          if (!(err instanceof JournalLostError)) throw err;
          // recorded in `lost`: the command says it at exit
        }
      }
    } finally {
      this.closed = true;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      closeSync(this.fd);
    }
  }

  private write(at: number, actor: string, event: EngineEvent | JournalOpen, sync: boolean): Appended {
    const seq = this.nextSeq;
    const ev = canonicalJSON(event);
    const atText = canonicalJSON(at);
    const actorText = JSON.stringify(actor);
    // Keys in canonical (sorted) order: exactly entryBody({seq, at, actor, event}).
    const body = `{"actor":${actorText},"at":${atText},"event":${ev},"seq":${seq}}`;
    const hash = digest(this.prev, body, this.key);
    const line = `{"seq":${seq},"at":${atText},"actor":${actorText},"event":${ev},"prev":"${this.prev}","hash":"${hash}"}\n`;
    const now = performance.now();
    const due = sync || this.flushEveryMs <= 0 || (this.buffer.length > 0 && now - this.bufferedSince >= this.flushEveryMs);
    // The file is checked before this line is taken: when it is lost, this event is in no copy of
    // the chain (its effects are not carried out: the runtime holds the rollout instead).
    if (due) this.checkFile();
    if (!this.buffer.length) this.bufferedSince = now;
    this.buffer.push(line);
    this.nextSeq += 1;
    this.prev = hash;
    this.stats.entries += 1;
    if (due) this.flushChecked(true);
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        try {
          this.flush();
        } catch {
          // recorded in `failed`: the next append throws
        }
      }, Math.max(0, this.bufferedSince + this.flushEveryMs - performance.now()));
      this.timer.unref();
    }
    return { seq, hash, type: event.type, durable: sync || this.buffer.length === 0 };
  }
}

function writeAll(fd: number, data: Buffer, chunk: number): void {
  let off = 0;
  while (off < data.length) {
    const len = chunk > 0 ? Math.min(chunk, data.length - off) : data.length - off;
    off += writeSync(fd, data, off, len);
  }
}

function fsyncDir(path: string): void {
  try {
    const d = openSync(dirname(path), 'r');
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  } catch {
    // not every platform can fsync a directory; the file itself is fsynced
  }
}

// ---------------------------------------------------------------------------------------------
// reading and verifying

export interface ReadResult {
  header: JournalHeader | null;
  /** Every entry after the header that parsed, in file order. */
  entries: JournalEntry[];
  torn: Torn | null;
  problems: Problem[];
  /** Whether the header says it is keyed. */
  keyed: boolean;
  /** The last entry in the file: what a writer continues from. */
  head: { seq: number; hash: string } | null;
  bytes: number;
}

const HEX64 = /^[0-9a-f]{64}$/;

function asEntry(v: unknown, line: number): JournalEntry<EngineEvent | JournalOpen> | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const ev = o.event as Record<string, unknown> | null | undefined;
  if (!Number.isSafeInteger(o.seq) || (o.seq as number) < 0) return null;
  if (typeof o.at !== 'number' || typeof o.actor !== 'string') return null;
  if (!ev || typeof ev !== 'object' || Array.isArray(ev) || typeof ev.type !== 'string') return null;
  if (typeof o.prev !== 'string' || !HEX64.test(o.prev) || typeof o.hash !== 'string' || !HEX64.test(o.hash)) return null;
  return { seq: o.seq as number, at: o.at, actor: o.actor, event: ev as unknown as EngineEvent, prev: o.prev, hash: o.hash, line };
}

// The writer's exact layout. A line in it is read from its own bytes: the hash is checked over the
// very text the values are parsed from, without re-serializing them (3x faster on big journals).
const PREFIX = /^\{"seq":(0|[1-9]\d{0,15}),"at":(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|\{"\$n":"(?:-?Infinity|NaN|-0)"\}),"actor":("(?:[^"\\\u0000-\u001f]|\\.)*"),"event":/;
const SUFFIX = /^,"prev":"([0-9a-f]{64})","hash":"([0-9a-f]{64})"\}$/;
const SUFFIX_LEN = 149;

interface ParsedLine {
  entry: JournalEntry<EngineEvent | JournalOpen>;
  /** The text the hash covers. */
  body: string;
}

function parseEntryLine(text: string, line: number): ParsedLine | null {
  const m = PREFIX.exec(text);
  const s = m && text.length >= m[0].length + SUFFIX_LEN + 2 ? SUFFIX.exec(text.slice(text.length - SUFFIX_LEN)) : null;
  if (m && s) {
    const eventText = text.slice(m[0].length, text.length - SUFFIX_LEN);
    try {
      const event = parseLine(eventText) as Record<string, unknown> | null;
      const at = m[2]!.charCodeAt(0) === 0x7b ? (parseLine(m[2]!) as number) : Number(m[2]);
      const actor = JSON.parse(m[3]!) as string;
      if (event && typeof event === 'object' && !Array.isArray(event) && typeof event.type === 'string' && typeof at === 'number')
        return {
          entry: { seq: Number(m[1]), at, actor, event: event as unknown as EngineEvent, prev: s[1]!, hash: s[2]!, line },
          body: `{"actor":${m[3]},"at":${m[2]},"event":${eventText},"seq":${m[1]}}`,
        };
    } catch {
      // not in the writer's layout after all: read it the slow way below
    }
  }
  // Any other spelling of a JSON entry (edited by hand, reformatted): parsed and canonicalized.
  let entry: JournalEntry<EngineEvent | JournalOpen> | null;
  try {
    entry = asEntry(parseLine(text), line);
  } catch {
    return null;
  }
  return entry ? { entry, body: entryBody(entry) } : null;
}

/** Reads a journal: parses every line, checks the chain, sets a torn last line aside. */
export function readJournal(path: string, opts: KeyOption = {}): ReadResult {
  return parseJournal(readJournalFile(path), opts);
}

/** The journal's bytes; anything that stops reading them is a JournalError saying what and where
 * (a directory, a missing file, no permission), never a bare fs error. */
function readJournalFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'EISDIR' ? 'it is a directory, not a journal file'
      : code === 'ENOENT' ? 'no such file'
      : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : e instanceof Error ? e.message : String(e);
    throw new JournalError(`cannot read journal ${path}: ${why}`);
  }
}

export function parseJournal(buf: Buffer, opts: KeyOption = {}): ReadResult {
  const problems: Problem[] = [];
  const key = keyBuffer(opts.key);
  // Only newline-terminated lines are entries: the writer ends each line in the same write, and
  // reports a decision only after the newline is on disk. Anything after the last newline is torn.
  const complete = buf.lastIndexOf(0x0a) + 1;
  const parsed: JournalEntry<EngineEvent | JournalOpen>[] = [];
  /** Per entry: does it hash to its hash (null: could not be checked). */
  const selfOk = new Map<JournalEntry<unknown>, boolean | null>();
  let torn: Torn | null = null;
  let lastSeq = -1;
  let lineNo = 0;
  let header: JournalHeader | null = null;
  let hashKey: Buffer | null | undefined; // undefined: hashes cannot be checked
  for (let offset = 0; offset < complete; ) {
    const end = buf.indexOf(0x0a, offset);
    const text = buf.toString('utf8', offset, end);
    lineNo += 1;
    const p = parseEntryLine(text, lineNo);
    if (p) {
      const entry = p.entry;
      if (lineNo === 1) {
        if (entry.seq === 0 && entry.event.type === 'journal.open') {
          header = entry as JournalHeader;
          hashKey = hashMode(header, p.body, key, problems);
        } else {
          problems.push({ kind: 'header', line: 1, seq: entry.seq, message: `line 1 is not the journal header (seq 0, journal.open): it is seq ${entry.seq} (${entry.event.type})` });
          hashKey = key;
        }
      } else if (hashKey === undefined && header === null && lineNo > 1) hashKey = key;
      parsed.push(entry);
      selfOk.set(entry, hashKey === undefined ? null : digest(entry.prev, p.body, hashKey) === entry.hash);
      lastSeq = entry.seq;
    } else if (end + 1 === buf.length) {
      // Invalid at the very end of the file: torn (e.g. zeros a crash left in place of a line).
      torn = { line: lineNo, offset, bytes: buf.length - offset, text, seq: seqIn(text) ?? lastSeq + 1 };
    } else {
      problems.push({ kind: 'corrupt', line: lineNo, seq: seqIn(text), message: `line ${lineNo} is not a journal entry (${describeText(text)}): a line before the end of the file was damaged` });
    }
    offset = end + 1;
  }
  if (complete < buf.length) {
    const text = buf.toString('utf8', complete);
    torn = { line: lineNo + 1, offset: complete, bytes: buf.length - complete, text, seq: seqIn(text) ?? lastSeq + 1 };
  }
  if (!header && !problems.some((p) => p.kind === 'header')) problems.push({ kind: 'header', line: 1, seq: null, message: 'no journal header on line 1' });
  checkChain(parsed, selfOk, problems);
  problems.sort((a, b) => a.line - b.line);
  const last = parsed[parsed.length - 1];
  return {
    header,
    entries: parsed.filter((e) => e !== header) as JournalEntry[],
    torn,
    problems,
    keyed: header?.event.alg === 'hmac-sha256',
    head: last ? { seq: last.seq, hash: last.hash } : null,
    bytes: buf.length,
  };
}

/** Which key checks the hashes (null: plain SHA-256; undefined: they cannot be checked). */
function hashMode(header: JournalHeader, body: string, key: Buffer | null, problems: Problem[]): Buffer | null | undefined {
  const keyed = header.event.alg === 'hmac-sha256';
  if (keyed && !key) {
    problems.push({ kind: 'key', line: 1, seq: 0, message: 'this journal is keyed (HMAC-SHA256): give its key (CANARY_JOURNAL_KEY) to check the hashes; only the links and the order were checked' });
    return undefined;
  }
  if (!keyed && key) {
    problems.push({ kind: 'key', line: 1, seq: 0, message: 'a key was given but this journal is not keyed (plain SHA-256): it was written without the key, or rewritten by someone who did not have it' });
    return null;
  }
  if (keyed && key && digest(header.prev, body, key) !== header.hash) {
    problems.push({ kind: 'key', line: 1, seq: 0, message: 'the header does not verify with this key: wrong key (or the header was edited); only the links and the order were checked' });
    return undefined;
  }
  return key;
}

function seqIn(text: string): number | null {
  const m = /^\{"seq":(\d+)/.exec(text);
  return m ? Number(m[1]) : null;
}

function describeText(text: string): string {
  if (text.length === 0) return 'empty';
  if (/^\0+$/.test(text)) return `${text.length} zero bytes`;
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text);
}

function checkChain(entries: JournalEntry<EngineEvent | JournalOpen>[], selfOk: Map<JournalEntry<unknown>, boolean | null>, problems: Problem[]): void {
  // Where each seq first appears, to tell a reordering from a deletion and to check links.
  const firstBySeq = new Map<number, JournalEntry<EngineEvent | JournalOpen>>();
  for (const e of entries) if (!firstBySeq.has(e.seq)) firstBySeq.set(e.seq, e);
  const seen = new Set<number>();
  const explained = new Set<number>(); // seqs already reported as part of a reordering
  const editedSeqs = new Set<number>();
  let expected = 0;
  let maxEntry: JournalEntry<EngineEvent | JournalOpen> | null = null;
  let prevEntry: JournalEntry<EngineEvent | JournalOpen> | null = null;
  for (const e of entries) {
    const at = `line ${e.line} (seq ${e.seq})`;
    if (seen.has(e.seq)) {
      const orig = firstBySeq.get(e.seq)!;
      problems.push({ kind: 'duplicated', line: e.line, seq: e.seq, message: `${at} repeats seq ${e.seq} of line ${orig.line}${orig.hash === e.hash ? ' (the same entry copied)' : ''}` });
    } else if (e.seq < expected) {
      if (!explained.has(e.seq))
        problems.push({ kind: 'reordered', line: e.line, seq: e.seq, message: `${at} comes after seq ${maxEntry!.seq} at line ${maxEntry!.line}: entries are out of order` });
    } else if (e.seq > expected) {
      const later: number[] = [];
      const gone: number[] = [];
      for (let s = expected; s < e.seq; s++) (firstBySeq.has(s) && firstBySeq.get(s)!.line > e.line ? later : gone).push(s);
      if (later.length) {
        const l = firstBySeq.get(later[0]!)!;
        problems.push({ kind: 'reordered', line: e.line, seq: e.seq, message: `${at} comes before seq ${later[0]} at line ${l.line}: entries are out of order` });
        for (const s of later) explained.add(s);
      }
      if (gone.length) {
        const range = gone.length === 1 ? `seq ${gone[0]} is` : `seqs ${gone[0]}-${gone[gone.length - 1]} (${gone.length} entries) are`;
        const after = prevEntry ? `line ${prevEntry.line} (seq ${prevEntry.seq})` : 'the start';
        problems.push({ kind: 'deleted', line: e.line, seq: gone[0]!, message: `${range} missing between ${after} and ${at}: deleted` });
      }
    }
    seen.add(e.seq);
    if (e.seq + 1 > expected) {
      expected = e.seq + 1;
      maxEntry = e;
    }
    prevEntry = e;

    // Content: does the entry hash to its hash?
    if (selfOk.get(e) === false) {
      editedSeqs.add(e.seq);
      problems.push({ kind: 'edited', line: e.line, seq: e.seq, message: `${at} does not match its hash: its content was changed after it was written` });
      continue;
    }
    // Link: is it chained to the entry with the seq before it?
    if (e.seq === 0) {
      if (e.prev !== GENESIS) problems.push({ kind: 'edited', line: e.line, seq: 0, message: `${at}: the first entry must chain to ${GENESIS.slice(0, 8)}..., it chains to ${e.prev.slice(0, 12)}...` });
      continue;
    }
    const before = firstBySeq.get(e.seq - 1);
    if (before && before.hash !== e.prev && !editedSeqs.has(before.seq)) {
      editedSeqs.add(before.seq);
      problems.push({
        kind: 'edited',
        line: before.line,
        seq: before.seq,
        message: `line ${before.line} (seq ${before.seq}) is not the entry that seq ${e.seq} (line ${e.line}) was chained to: it was rewritten and its hash recomputed (or seq ${e.seq}'s prev was edited)`,
      });
    }
  }
}

export interface VerifyOptions extends KeyOption {
  /** A head recorded earlier (its hash, or seq and hash): the only way to detect truncation. */
  expectedHead?: string | { seq?: number; hash: string };
}

export interface VerifyResult {
  ok: boolean;
  path: string;
  /** Lines in the chain, the header included. */
  entries: number;
  head: { seq: number; hash: string } | null;
  keyed: boolean;
  /** The first problem in file order (what the report leads with). */
  first: Problem | null;
  problems: Problem[];
  torn: Torn | null;
  truncation: 'not-checked' | 'ok' | 'extended' | 'truncated';
  /** What `canary audit verify` prints. */
  text: string;
}

/** Checks the chain and says what is wrong, first problem first, and prints the head hash. */
export function verifyJournal(path: string, opts: VerifyOptions = {}): VerifyResult {
  // A malformed --expect-head is the user's to fix before anything is read.
  const expected = opts.expectedHead === undefined ? undefined : typeof opts.expectedHead === 'string' ? parseHead(opts.expectedHead) : opts.expectedHead;
  const r = readJournal(path, opts);
  const problems = [...r.problems];
  const all = [...(r.header ? [r.header] : []), ...r.entries] as JournalEntry<unknown>[];
  let truncation: VerifyResult['truncation'] = 'not-checked';
  let truncText = 'truncation: not checked - cutting entries off the end leaves a valid chain; only a head recorded earlier (--expect-head) shows it';
  if (expected !== undefined) {
    const exp = expected;
    const found = all.find((e) => e.hash === exp.hash);
    if (r.head && r.head.hash === exp.hash) {
      truncation = 'ok';
      truncText = `truncation: none - the head is the recorded head (seq ${r.head.seq})`;
    } else if (found && (exp.seq === undefined || found.seq === exp.seq)) {
      truncation = 'extended';
      truncText = `truncation: none - the recorded head is seq ${found.seq} at line ${found.line}; ${r.head!.seq - found.seq} entries were appended since`;
    } else {
      truncation = 'truncated';
      const lastLine = all.length ? all[all.length - 1]!.line : 0;
      const missing = exp.seq !== undefined && r.head ? ` (${exp.seq - r.head.seq} entries after seq ${r.head.seq} are gone)` : '';
      const msg = `TRUNCATED or rewritten: the recorded head ${exp.seq !== undefined ? `seq ${exp.seq} ` : ''}${exp.hash.slice(0, 16)}... is not in the chain, which ends at seq ${r.head?.seq ?? '-'}${missing}`;
      problems.push({ kind: 'truncated', line: lastLine + 1, seq: exp.seq ?? (r.head ? r.head.seq + 1 : null), message: msg });
      truncText = `truncation: ${msg}`;
    }
  }
  problems.sort((a, b) => a.line - b.line);
  const ok = problems.length === 0;
  const lines: string[] = [];
  lines.push(`journal ${path}: ${all.length} entries${r.header ? `, plan ${printable(String(r.header.event.plan))}` : ''}, ${r.keyed ? 'HMAC-SHA256 (keyed)' : 'SHA-256 (not keyed)'}`);
  lines.push(ok ? 'chain: OK - every entry hashes to its hash and links to the one before' : `chain: FAILED - ${problems.length} problem${problems.length === 1 ? '' : 's'}; the first:`);
  for (const p of problems) lines.push(`  ${p.kind.toUpperCase()} at line ${p.line}${p.seq !== null ? `, seq ${p.seq}` : ''}: ${p.message}`);
  if (r.torn)
    lines.push(`torn tail: line ${r.torn.line} (would be seq ${r.torn.seq}), ${r.torn.bytes} bytes never completed (a crash mid-write); not part of the chain - resume moves it to ${path}.torn-${r.torn.seq}`);
  lines.push(r.head ? `head: seq ${r.head.seq} ${r.head.hash}` : 'head: none');
  lines.push(truncText);
  return { ok, path, entries: all.length, head: r.head, keyed: r.keyed, first: problems[0] ?? null, problems, torn: r.torn, truncation, text: lines.join('\n') };
}

function parseHead(text: string): { seq?: number; hash: string } {
  const m = /^(?:(\d+):)?([0-9a-f]{64})$/.exec(text.trim());
  if (!m) throw new JournalError(`--expect-head: expected "<hash>" or "<seq>:<hash>" (64 hex digits, as \`canary audit verify\` prints after "head:"), got "${text}"`);
  return m[1] !== undefined ? { seq: Number(m[1]), hash: m[2]! } : { hash: m[2]! };
}

// ---------------------------------------------------------------------------------------------
// replay and resume

export interface ReplayStep {
  entry: JournalEntry;
  /** The state before and after this entry. */
  before: RolloutState;
  state: RolloutState;
  effects: Effect[];
}

function checkPlan(plan: Plan, header: JournalHeader, planText?: string): void {
  if (header.event.plan !== plan.metadata.name)
    throw new JournalError(`the journal is for plan "${header.event.plan}", not "${plan.metadata.name}"`);
  if (planText !== undefined && sha256Hex(planText) !== header.event.planHash)
    throw new JournalError(`the plan file changed since the journal was opened (plan hash ${sha256Hex(planText).slice(0, 12)}... is not ${header.event.planHash.slice(0, 12)}...): replaying with another plan would not give the same state`);
}

/** Every entry reduced in turn from initialState(plan, header.at), under the journal's rules. */
export function* replaySteps(plan: Plan, read: ReadResult): Generator<ReplayStep> {
  if (!read.header) throw new JournalError('no journal header: nothing to replay');
  let state = initialState(plan, read.header.at, rulesOf(read.header));
  for (const entry of read.entries) {
    const r = reduce(plan, state, entry.event);
    yield { entry, before: state, state: r.state, effects: r.effects };
    state = r.state;
  }
}

export interface ReplayResult {
  header: JournalHeader;
  state: RolloutState;
  lastSeq: number;
  head: { seq: number; hash: string };
  /** Effects asked for and never confirmed in the journal (traffic changes in doubt after a crash):
   * carry them out again on resume (setting a weight, rolling back are idempotent). */
  inDoubt: Effect[];
  torn: Torn | null;
  problems: Problem[];
}

export interface ReplayOptions extends KeyOption {
  /** The plan file's text: checked against the header's plan hash. */
  planText?: string;
  /** Told every state of the replay, in order (a report ledger picks its facts up from them). */
  observe?: (state: RolloutState) => void;
}

/** Replays a journal (or one already read) to its final state. Problems are returned, not thrown. */
export function replayJournal(plan: Plan, source: string | ReadResult, opts: ReplayOptions = {}): ReplayResult {
  const read = typeof source === 'string' ? readJournal(source, opts) : source;
  if (!read.header) throw new JournalError('no journal header: nothing to replay', read.problems);
  checkPlan(plan, read.header, opts.planText);
  let state = initialState(plan, read.header.at, rulesOf(read.header));
  const asked = new Map<number, Effect>();
  for (const step of replaySteps(plan, read)) {
    state = step.state;
    opts.observe?.(state);
    for (const e of step.effects) if (e.type === 'set-weight' || e.type === 'rollback') asked.set(e.id, e);
  }
  const inDoubt = Object.keys(state.pending)
    .map((id) => asked.get(Number(id)))
    .filter((e): e is Effect => e !== undefined);
  return { header: read.header, state, lastSeq: read.head!.seq, head: read.head!, inDoubt, torn: read.torn, problems: read.problems };
}

export interface ResumeOptions extends ReplayOptions, AttachOptions {}

export interface ResumeResult extends ReplayResult {
  /** The torn tail, if there was one, and where it was moved. */
  torn: (Torn & { movedTo: string }) | null;
  /** Lines in the chain, the header included. */
  entries: number;
  /** Appends to the same chain. */
  writer: JournalWriter;
}

/**
 * Picks a journal up after a crash (or a clean stop): verifies the chain (refuses a journal that
 * does not verify), moves a torn tail to `<path>.torn-<seq>` and cuts it off the file, replays
 * every entry to the state the rollout was in, and opens a writer that continues the chain.
 */
export async function resume(plan: Plan, path: string, opts: ResumeOptions = {}): Promise<ResumeResult> {
  return resumeSync(plan, path, opts);
}

export function resumeSync(plan: Plan, path: string, opts: ResumeOptions = {}): ResumeResult {
  const read = readJournal(path, opts);
  if (!read.header) throw new JournalError(noHeader(path, read), read.problems);
  if (read.problems.length)
    throw new JournalError(`${path}: the journal does not verify; refusing to resume from it:\n${read.problems.map((p) => `  ${p.kind} at line ${p.line}${p.seq !== null ? `, seq ${p.seq}` : ''}: ${p.message}`).join('\n')}`, read.problems);
  checkPlan(plan, read.header, opts.planText);
  const replayed = replayJournal(plan, read, opts);
  let torn: ResumeResult['torn'] = null;
  if (read.torn) torn = { ...read.torn, movedTo: setAside(path, read.torn) };
  const writer = JournalWriter.attach(path, replayed.head, replayed.state, opts);
  return { ...replayed, torn, entries: read.entries.length + 1, writer };
}

/** Why a journal without a header cannot be resumed, and what to do. An empty file is not taken
 * as a new journal: canary leaves one only when killed between creating it and writing its header
 * (before any decision), but a journal emptied by someone (truncate -s 0, a full disk) looks the
 * same, and starting it over would forget a rollout that has traffic on the canary. */
function noHeader(path: string, read: ReadResult): string {
  if (read.bytes === 0)
    return `${path} is empty (0 bytes): it holds no decision and cannot be resumed. A canary killed as it started leaves such a file: then remove it (rm ${path}) and start again, or start with --journal <new file>. If it was a journal that was emptied (truncate, a full disk), restore it from a copy first: starting over forgets the rollout`;
  const first = read.problems.find((p) => p.kind === 'header');
  return `${path}: no journal header (${first ? first.message : 'line 1 is not one'}; ${read.bytes} bytes): it is not a canary journal, or its start was damaged, and it cannot be resumed. canary audit verify ${path} says more; start with --journal <new file> for a new rollout`;
}

/** Copies the torn bytes to `<path>.torn-<seq>` (fsynced), then truncates them off the journal. */
function setAside(path: string, torn: Torn): string {
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const raw = Buffer.alloc(size - torn.offset);
    readSync(fd, raw, 0, raw.length, torn.offset);
    let target = `${path}.torn-${torn.seq}`;
    for (let n = 2; existsSync(target); n++) target = `${path}.torn-${torn.seq}.${n}`;
    writeFileSync(target, raw, { flag: 'wx' });
    const t = openSync(target, 'r');
    try {
      fsyncSync(t);
    } finally {
      closeSync(t);
    }
    ftruncateSync(fd, torn.offset);
    fsyncSync(fd);
    fsyncDir(path);
    return target;
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// comparing states

function plainSeries(s: Series): { t: number[]; v: (number | null)[] } {
  return { t: seriesTimes(s), v: seriesValues(s) };
}

/** The state as replay promises to reproduce it: pods left out (not journaled by default), sample
 * series as their visible window (the shared buffers behind them are an implementation detail). */
export function comparableState(state: RolloutState, opts: { includePods?: boolean } = {}): unknown {
  const { pods, podsVersion, slis, ...rest } = state;
  const out: Record<string, unknown> = { ...rest, slis: Object.fromEntries(Object.entries(slis).map(([k, s]) => [k, { canary: plainSeries(s.canary), baseline: plainSeries(s.baseline), lastAt: s.lastAt }])) };
  if (opts.includePods) {
    out.pods = Object.fromEntries(pods);
    out.podsVersion = podsVersion;
  }
  return out;
}

/** A short fingerprint of `comparableState` (canonical JSON, SHA-256): equal states, equal digests. */
export function stateDigest(state: RolloutState, opts: { includePods?: boolean } = {}): string {
  return sha256Hex(canonicalJSON(comparableState(state, opts)));
}
