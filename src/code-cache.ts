// The V8 code cache of the bundled CLI (dist/canary-app.cjs), used by the bin (src/launcher.ts).
//
// Compiling the CLI is most of what a start costs over a bare Ink app: the first frame took ~1.3x
// a minimal Ink app's, and ~60 ms of the difference was V8 parsing and compiling our code and its
// packages (React's first mount alone ran ~25 ms of functions compiled for the first time). Node
// 22 keeps compiled code between runs (module.enableCompileCache); Node 20, which we support,
// does not, for modules. So the bin compiles the bundle as one vm.Script with V8's own code
// cache: the first start compiles and, once its first frame is out, keeps the code V8 compiled
// (Script#createCachedData); every later start hands it back (cachedData) and V8 skips the parse
// and compile of everything in it. First frame with the cache: about a bare Ink app's.
//
// What V8 checks when it takes cached data: its own version, the V8 flags, the source's length,
// the data's length. Not the source's content (a rebuild of the same length would be taken) and,
// in release builds, not a checksum of the data (a flipped bit would run as bytecode). So:
//   - the file is named by a key over the bundle's hash (computed at build time), Node's version,
//     the architecture and the Node options: a new build or another Node never reads an old file;
//   - the file carries a SHA-256 of its contents, checked before V8 sees a byte (~1.5 ms);
//   - it is written to a temporary file and renamed (a kill -9 leaves the old file or none), mode
//     0600 in a directory of mode 0700, and read only when it and its directory belong to this
//     user and no one else can write them (src/private-file.ts);
//   - anything wrong (unreadable, foreign, corrupt, refused by V8) means no cache: the bundle is
//     compiled from source, as without one, and a good file replaces the bad one.
// CANARY_CODE_CACHE=off turns it off; CANARY_DEBUG=1 says on stderr what happened to it.
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { keepNewest, readPrivate, writePrivate } from './private-file.js';

/** What wrote the cache: a console (`start`, `join`...) once its first frame was out, or another
 * command (`validate`, `status`...), which compiled only the code it ran. A console given another
 * command's cache writes its own (a superset: V8 keeps the code it was given and adds its own). */
export type CacheScope = 'command' | 'console';

const MAGIC = Buffer.from('canary-v8-cache-1\n');
const SCOPES: Record<CacheScope, number> = { command: 1, console: 2 };
/** How many cache files are kept (one per build, Node and options in use; each ~1.5 MB). */
const KEEP = 4;

/** The cache file for this bundle (its build's hash, and `app`: the identity of the file itself,
 * size, time and inode) under this Node and these options. */
export function cacheFile(dir: string, appHash: string, node: { version: string; arch: string; execArgv: readonly string[]; nodeOptions: string | undefined; app: string }): string {
  const key = createHash('sha256')
    .update([appHash, node.app, node.version, node.arch, ...node.execArgv, `NODE_OPTIONS=${node.nodeOptions ?? ''}`].join('\0'))
    .digest('hex')
    .slice(0, 32);
  return join(dir, `code-${key}.v8`);
}

/** The checksum of a cache file: over its name too (the name is the key: a file copied to another
 * key's name is not that key's code), its scope and its code. */
function sumOf(file: string, scopeByte: Buffer, data: Buffer): Buffer {
  return createHash('sha256').update(basename(file)).update('\0').update(scopeByte).update(data).digest();
}

export type ReadResult = { data: Buffer; scope: CacheScope } | { data: null; why: string };

/** The cached code in `file`, checked, or why there is none. Never throws. */
export function readCache(file: string, dir: string): ReadResult {
  const read = readPrivate(file, dir);
  if (!read.data) return read;
  const buf = read.data;
  const head = MAGIC.length + 1 + 32;
  if (buf.length <= head || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return { data: null, why: 'not a canary code cache' };
  const scope = (Object.keys(SCOPES) as CacheScope[]).find((s) => SCOPES[s] === buf[MAGIC.length]);
  const sum = buf.subarray(MAGIC.length + 1, head);
  const body = buf.subarray(head);
  if (!scope || !sumOf(file, buf.subarray(MAGIC.length, MAGIC.length + 1), body).equals(sum)) return { data: null, why: 'checksum does not match (corrupt, or copied from another name)' };
  return { data: body, scope };
}

/** Writes `data` as the cache in `file` (atomically), then keeps the KEEP newest cache files of
 * `dir`. Returns the bytes written, or why it could not (a cache that cannot be written is no
 * cache: the next start compiles again). */
export function writeCache(file: string, dir: string, data: Buffer, scope: CacheScope): number | string {
  const scopeByte = Buffer.from([SCOPES[scope]]);
  const sum = sumOf(file, scopeByte, data);
  const failed = writePrivate(file, dir, Buffer.concat([MAGIC, scopeByte, sum, data]));
  if (failed) return failed;
  keepNewest(dir, /^code-[0-9a-f]{32}\.v8$/, KEEP);
  return data.length;
}

/** What the app asks of the bin's save function. `last`: the V8 flags are about to change (src/heap.ts),
 * so nothing may be kept after this one (V8 would refuse it at every later start). */
export interface SaveRequest {
  scope: CacheScope;
  last?: boolean;
}

/** When the bin keeps the compiled code: once, when it found no usable cache, or when a console
 * was given another command's (a console's code is what every console start wants); never after
 * a `last` request (the V8 flags then differ from the start's, and V8 would refuse what is kept).
 * `taken`: the scope of the cache V8 took at start, null when none. */
export class KeepPolicy {
  private done = false;
  constructor(private readonly taken: CacheScope | null) {}

  /** Whether to keep the code now (true at most once). */
  wants(request: SaveRequest): boolean {
    if (this.done) return false;
    if (request.last) this.done = true;
    if (this.taken && !(request.scope === 'console' && this.taken !== 'console')) return false;
    this.done = true;
    return true;
  }
}

/** Where the bin publishes its save function (the bundle is loaded by the bin, not imported by it,
 * so they share no module). */
export const SAVE_CODE_CACHE = Symbol.for('canary.saveCodeCache');

/** Has the bin keep the code compiled so far, if it wants it (no cache yet, or a console given a
 * command's). A console calls it right after Ink's render(), which writes the first frame before
 * it returns: the code of a start and no more (a cache kept later, with the code of the minutes
 * after, was ~10% larger and its start ~4% slower: V8 reads all of it back before running).
 * Nothing when the CLI was not started by the bin (tests, the bench's in-process consoles). */
export function keepCompiledCode(scope: CacheScope, opts: { last?: boolean } = {}): void {
  const save = (globalThis as Record<symbol, unknown>)[SAVE_CODE_CACHE];
  if (typeof save === 'function') (save as (r: SaveRequest) => void)({ scope, ...(opts.last ? { last: true } : {}) });
}
