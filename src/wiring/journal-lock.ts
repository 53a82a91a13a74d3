// One writer per journal: `<journal>.lock` names the canary that writes it. And where journals go
// by default.
//
// The lock file is never written in place: its whole content goes to a private temporary file
// first, which is then put at the lock's path with link(2) (fails with EEXIST when a lock is there)
// or, to take over a stale lock, rename(2) (replaces it atomically). Its content:
//
//   <pid>
//   id <random 128-bit hex>            this generation of the lock: no two are alike
//   started <boot id>/<start ticks>    the process's start (Linux /proc), to tell a reused pid
//   since <ISO time>
//   command <argv>
//
// A lock is held while its process runs: the pid exists, is not a zombie, and is the same process
// (its start time, when the lock has one; else, for a lock written by hand or by an older canary,
// its command line mentions canary). Otherwise it is stale and may be taken over.
//
// Why the takeover is race-free. Only one process may replace a given generation G of the lock:
// the one that creates `<lock>.next-<G>` (itself a lock, taken by this very procedure; link(2)
// gives it to exactly one process). The owner of that claim reads the lock again: if it still is
// G, it renames its own file over it; if not, it lets the claim go and starts over. Between that
// read and the rename the lock cannot change: its path is never empty (link cannot create it), G's
// process is gone (it cannot release), and anyone else who would replace G would need the claim.
// The holder releases by unlinking the lock after reading that it is still its own generation,
// which cannot change under it either: a successor needs the holder judged gone, and it is alive.
// A claimant that died holding its claim leaves a stale claim, taken over the same way (a claim on
// the claim), so nothing waits forever for a dead process. Every generation id is new, so a claim
// left behind never matches a later lock. (The old code read the pid, deleted the file and created
// it again: two processes could both judge the same stale lock, and the second deleted the lock
// the first had just made - both wrote, and the journal's chain forked.)
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Plan } from '../plan/schema.js';

/** What a lock file says (any field may be missing from a lock written by hand or by an older canary). */
export interface LockInfo {
  pid: number | null;
  id: string | null;
  started: string | null;
  since: string | null;
  command: string | null;
}

export type LockResult =
  | {
      ok: true;
      release: () => void;
      /** A stale lock was taken over: whose it was and why it was stale (say it). */
      tookOver: string | null;
    }
  | {
      ok: false;
      /** Who holds it: "canary pid 4242". */
      holder: string;
      /** The lock file. */
      lock: string;
      /** More about the holder and what to do, for the message. */
      detail: string;
    };

/** How many stale claims on claims are taken over before giving up (each needs a process that died
 * within microseconds of taking a claim). */
const MAX_DEPTH = 4;
/** How long to wait for another process that is taking the lock over right now. */
const BUSY_WAIT_MS = 3_000;

export function parseLock(text: string): LockInfo {
  const lines = text.split('\n');
  const first = lines[0]?.trim() ?? '';
  const pid = /^\d+$/.test(first) && Number.isSafeInteger(Number(first)) && Number(first) > 0 ? Number(first) : null;
  const field = (k: string) => {
    const l = lines.find((x) => x.startsWith(`${k} `));
    return l ? l.slice(k.length + 1).trim() : null;
  };
  return { pid, id: field('id'), started: field('started'), since: field('since'), command: field('command') };
}

let bootId: string | null | undefined;
function readBootId(): string | null {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootId = null;
    }
  }
  return bootId;
}

/** A process's state and start time from /proc/<pid>/stat (Linux), or null where there is none. */
function procStat(pid: number): { state: string; started: string | null } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid ..." - comm may hold spaces and parentheses: fields count from the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const boot = readBootId();
  const ticks = rest[19]; // field 22, starttime
  return { state: rest[0] ?? '?', started: boot && ticks ? `${boot}/${ticks}` : null };
}

function procCmdline(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return null;
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type Liveness = { alive: true; note: string } | { alive: false; why: string };

/** Whether the lock's process still runs, and is that process (see the note at the top). */
export function lockLiveness(info: LockInfo): Liveness {
  const pid = info.pid;
  if (pid === null) return { alive: false, why: 'it names no process (an empty or damaged lock file: a crash while it was written, or a reboot)' };
  if (!running(pid)) return { alive: false, why: `pid ${pid} is not running` };
  const st = procStat(pid);
  if (st && st.state === 'Z') return { alive: false, why: `pid ${pid} has exited (a zombie its parent has not reaped)` };
  if (info.started && st?.started) {
    return st.started === info.started ? { alive: true, note: '' } : { alive: false, why: `pid ${pid} is another process now (it started after the lock was written: the pid was reused, e.g. after a reboot)` };
  }
  // A lock without a start time (written by hand, or by an older canary): is the process canary?
  const cmd = procCmdline(pid);
  if (cmd === null) return { alive: true, note: `this system cannot tell whether pid ${pid} is canary; if it is not, remove the lock file` };
  if (/canary|start\.mjs/.test(cmd)) return { alive: true, note: '' };
  return { alive: false, why: `pid ${pid} runs, but it is not canary (${cmd.length > 100 ? `${cmd.slice(0, 100)}...` : cmd})` };
}

function readLock(path: string): { info: LockInfo; gen: string } | null {
  let text: string;
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path, { bigint: true });
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const info = parseLock(text);
  // A lock of this canary carries its generation id; any other is told apart by inode and mtime
  // (link and rename keep both; a file written again is a new mtime).
  const gen = info.id && /^[0-9a-f]{8,64}$/.test(info.id) ? info.id : `i${st.ino}m${st.mtimeNs}`;
  return { info, gen };
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* gone already */
  }
}

/** Gives up `path` if it is still ours (our generation `id`): only a successor could have replaced
 * it, and nobody succeeds a live process. */
function letGo(path: string, id: string): void {
  try {
    if (readLock(path)?.info.id === id) unlinkSync(path);
  } catch {
    /* gone already */
  }
}

type Take = { ok: true; tookOver: string | null } | { ok: false; info: LockInfo; note: string; busy: boolean };

/** Puts our file (`mine`, generation `id`) at `path`, taking a stale one over (see the top). */
function take(path: string, mine: string, id: string, depth: number): Take {
  const deadline = performance.now() + BUSY_WAIT_MS;
  for (;;) {
    try {
      linkSync(mine, path);
      return { ok: true, tookOver: null };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const cur = readLock(path);
    if (!cur) continue; // released between our link and our read: try again
    const live = lockLiveness(cur.info);
    if (live.alive || depth >= MAX_DEPTH) {
      // A claim held by a live process: it is taking the lock over right now; wait for it.
      if (depth > 0 && live.alive && performance.now() < deadline) {
        sleepMs(2);
        continue;
      }
      return { ok: false, info: cur.info, note: live.alive ? live.note : `takeover claims left by canaries that died while taking this lock over (${path}); if no canary runs on this journal, remove them by hand`, busy: depth > 0 };
    }
    // Stale: claim the right to replace exactly this generation.
    const claim = `${path}.next-${cur.gen}`;
    const c = take(claim, mine, id, depth + 1);
    if (!c.ok) {
      if (c.busy && performance.now() < deadline) {
        sleepMs(2);
        continue;
      }
      return { ...c, busy: depth > 0 || c.busy };
    }
    try {
      const again = readLock(path);
      if (again && again.gen === cur.gen) {
        const copy = `${mine}.r`;
        unlinkQuiet(copy);
        linkSync(mine, copy);
        renameSync(copy, path);
        return { ok: true, tookOver: live.why };
      }
      // It changed hands (released, or taken by a claimant before us): start over.
    } finally {
      letGo(claim, id);
    }
  }
}

function describe(info: LockInfo): string {
  return `canary pid ${info.pid ?? '?'}`;
}

/** Claims and temporary files left by processes that died in the middle of taking this lock. */
function sweep(lock: string, id: string): void {
  const dir = dirname(lock);
  const base = basename(lock);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith(`${base}.next-`) && !n.startsWith(`${base}.next-${id}`)) unlinkQuiet(join(dir, n));
    const tmp = n.startsWith(`${base}.tmp-`) ? /^\.tmp-(\d+)-/.exec(n.slice(base.length)) : null;
    if (tmp && !running(Number(tmp[1]))) unlinkQuiet(join(dir, n));
  }
}

/** The lock of the journal at `path` (`<path>.lock`): ok with a release, or who holds it. */
export function lockJournal(path: string): LockResult {
  const lock = `${path}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  const id = randomBytes(16).toString('hex');
  const started = procStat(process.pid)?.started ?? null;
  const text = [
    String(process.pid),
    `id ${id}`,
    ...(started ? [`started ${started}`] : []),
    `since ${new Date().toISOString()}`,
    `command ${process.argv.slice(1).join(' ').replace(/\s+/g, ' ').slice(0, 300)}`,
    '',
  ].join('\n');
  const mine = `${lock}.tmp-${process.pid}-${id}`;
  writeFileSync(mine, text, { flag: 'wx' });
  let r: Take;
  try {
    r = take(lock, mine, id, 0);
  } finally {
    unlinkQuiet(mine);
    unlinkQuiet(`${mine}.r`);
  }
  if (!r.ok) {
    const since = r.info.since ? ` since ${r.info.since}` : '';
    const cmd = r.info.command ? `: ${r.info.command}` : '';
    const detail = r.busy ? `another canary is taking this lock over right now${cmd}` : `running${since}${cmd}${r.note ? `; ${r.note}` : ''}`;
    return { ok: false, holder: describe(r.info), lock, detail };
  }
  sweep(lock, id);
  const release = () => {
    process.off('exit', release);
    letGo(lock, id);
  };
  process.on('exit', release);
  return { ok: true, release, tookOver: r.tookOver };
}

/** <stateHome>/canary: <plan>.jsonl for a live rollout, <plan>-sim-<time>.jsonl for a run on the
 * simulated world (never resumed by default). */
export function defaultJournalPath(plan: Plan, live: boolean, stateHome: string): string {
  const name = live ? `${plan.metadata.name}.jsonl` : `${plan.metadata.name}-sim-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`;
  return join(stateHome, 'canary', name);
}
