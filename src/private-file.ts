// Files canary keeps for itself between runs and then trusts: a validated plan (src/plan/cache.ts,
// used without validating it again) and compiled code (src/code-cache.ts, run as it is). Written
// whole, to a temporary file then renamed (a kill -9 leaves the old file or none), mode 0600 in a
// directory made with mode 0700; read only when the file and its directory belong to this user and
// no one else can write them (an XDG_CACHE_HOME on a shared disk must not let another user choose
// a plan's thresholds or the code canary runs). The callers add a checksum of their own (a flipped
// bit in a threshold is still valid JSON). A leaf: node built-ins only.
import { chmodSync, closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const uid = (): number | null => (typeof process.getuid === 'function' ? process.getuid() : null);

/** Null when only this user can have written `st`; else why not. */
function foreign(st: { uid: number; mode: number }, what: string): string | null {
  const me = uid();
  if (me !== null && st.uid !== me) return `${what} belongs to uid ${st.uid}, not ${me}`;
  if ((st.mode & 0o022) !== 0) return `${what} can be written by others (mode ${(st.mode & 0o777).toString(8)})`;
  return null;
}

/** Null when `dir` and the directory it is in are real directories (not links: a link to someone's
 * directory would have canary read and tidy up there) of this user that no one else can write.
 * `heal`: one of this user's that others can write (made under a umask of 002, or by an older
 * canary) is made 0700 first; what others may have put in it meanwhile is theirs, and a file
 * that is not this user's is never read. */
function foreignDir(dir: string, heal = false): string | null {
  for (const [d, what] of [
    [dir, 'its directory'],
    [dirname(dir), "its directory's parent"],
  ] as const) {
    const st = lstatSync(d);
    if (st.isSymbolicLink()) return `${what} ${d} is a symbolic link`;
    if (!st.isDirectory()) return `${what} ${d} is not a directory`;
    if (heal && (st.mode & 0o022) !== 0 && st.uid === uid()) chmodSync(d, 0o700);
    else {
      const bad = foreign(st, `${what} ${d}`);
      if (bad) return bad;
    }
  }
  return null;
}

/** Opened without following a link and without waiting (a FIFO planted under the name would
 * block an open for reading until someone writes it). */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** The bytes of `file` (in `dir`), or why they are not to be trusted. Never throws. */
export function readPrivate(file: string, dir: string): { data: Buffer } | { data: null; why: string } {
  let fd: number;
  try {
    fd = openSync(file, READ_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { data: null, why: code === 'ENOENT' ? 'none yet' : code === 'ELOOP' ? 'the file is a symbolic link' : `unreadable (${(err as Error).message})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { data: null, why: 'not a regular file' };
    const bad = foreign(st, 'the file') ?? foreignDir(dir);
    if (bad) return { data: null, why: bad };
    return { data: readFileSync(fd) };
  } catch (err) {
    return { data: null, why: `unreadable (${(err as Error).message})` };
  } finally {
    closeSync(fd);
  }
}

/** Writes `data` as `file` (in `dir`, made if missing). Null when written; else why not. Not into a
 * directory someone else could write (they could swap the file, or plant the temporary name as a
 * link to one of this user's files), and the temporary file is created new (O_EXCL: a link
 * planted under its name is never followed). */
export function writePrivate(file: string, dir: string, data: Buffer | string): string | null {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const bad = foreignDir(dir, true);
    if (bad) return bad;
    try {
      writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      unlinkSync(tmp); // left by a process with our pid that was killed mid-write (or planted): the name, not what it points to
      writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
    }
    renameSync(tmp, file);
    return null;
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never written
    }
    return (err as Error).message;
  }
}

/** How old a temporary file (`<name>.<pid>.tmp`) must be to be taken for one a killed canary left. */
const STALE_TMP_MS = 10 * 60_000;

/** Keeps the `keep` most recently written files of `dir` whose names match `names` (nothing else
 * of the directory is touched), and removes what a canary killed between write and rename left
 * there (their temporary files, older than ten minutes). Another canary may be tidying up at the
 * same time: a file gone already is fine, and nothing here throws (a directory kept small can wait
 * for the next write). */
export function keepNewest(dir: string, names: RegExp, keep: number, now = Date.now()): void {
  const age = (f: string): number => {
    try {
      return lstatSync(join(dir, f)).mtimeMs;
    } catch {
      return -1;
    }
  };
  const remove = (f: string) => {
    try {
      unlinkSync(join(dir, f));
    } catch {
      // gone already
    }
  };
  try {
    const all = readdirSync(dir);
    for (const f of all) {
      const m = /^(.+)\.\d+\.tmp$/.exec(f);
      if (m && names.test(m[1]!) && now - age(f) > STALE_TMP_MS) remove(f);
    }
    const files = all.filter((f) => names.test(f));
    if (files.length <= keep) return;
    const byAge = files.map((f) => ({ f, t: age(f) })).sort((a, b) => a.t - b.t);
    for (const { f } of byAge.slice(0, files.length - keep)) remove(f);
  } catch {
    // the directory cannot be listed: nothing to tidy
  }
}
