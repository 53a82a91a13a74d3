// The bin's V8 code cache (src/launcher.ts, src/code-cache.ts), through the built CLI: the first
// run compiles and keeps its code, later runs use it, and a cache file that is corrupt, foreign,
// writable by others or refused by V8 is never used (the command runs as without one, and a good
// file replaces it). A console given a shorter command's cache keeps its own, before the lean-heap
// flag change (a cache kept after it would be refused by every later start).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheFile, KeepPolicy, readCache, writeCache } from '../src/code-cache.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist', 'canary.mjs');
const plan = join(root, 'config', 'maestro-conductor-rc.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'canary-code-cache-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function home(): { env: NodeJS.ProcessEnv; dir: string } {
  const base = join(tmp, `h${++n}`);
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: join(base, 'cache'), XDG_STATE_HOME: join(base, 'state'), XDG_CONFIG_HOME: join(base, 'config'), CANARY_DEBUG: '1' };
  delete env.CANARY_CODE_CACHE;
  return { env, dir: join(base, 'cache', 'canary', 'code') };
}

/** `canary validate` on the seed plan: its output, and what the bin said of the code cache. */
function validate(env: NodeJS.ProcessEnv): { out: string; cache: string[] } {
  const r = spawnSync(process.execPath, [cli, 'validate', plan], { env, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return { out: r.stdout, cache: r.stderr.split('\n').filter((l) => l.startsWith('canary: code cache ')) };
}

const only = (dir: string): string => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.v8'));
  expect(files).toHaveLength(1);
  return join(dir, files[0]!);
};

describe('the code cache of the bin', () => {
  it('is written by the first run and used by the next, with the same output', () => {
    const { env, dir } = home();
    const first = validate(env);
    expect(first.cache[0]).toMatch(/: none yet: compiled from source$/);
    expect(first.cache[1]).toMatch(/: written \(\d+ bytes, command\)$/);
    const file = only(dir);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const second = validate(env);
    expect(second.cache).toEqual([expect.stringMatching(/: used$/)]);
    expect(second.out).toBe(first.out);
    expect(first.out).toMatch(/post +5 validation commands/);
  }, 120_000);

  it('is never used when corrupt, truncated, writable by others, foreign or refused by V8, and is replaced by a good one', () => {
    const { env, dir } = home();
    const good = validate(env);
    const file = only(dir);
    const bytes = readFileSync(file);

    // One bit flipped in the middle of the code: V8 itself would not notice (no checksum in release builds).
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x10;
    writeFileSync(file, flipped, { mode: 0o600 });
    const afterFlip = validate(env);
    expect(afterFlip.cache[0]).toMatch(/: checksum does not match \(corrupt, or copied from another name\): compiled from source$/);
    expect(afterFlip.cache[1]).toMatch(/: written/);
    expect(afterFlip.out).toBe(good.out);
    expect(validate(env).cache).toEqual([expect.stringMatching(/: used$/)]);

    // Cut short (a disk full, a copy interrupted).
    writeFileSync(file, bytes.subarray(0, 1000), { mode: 0o600 });
    expect(validate(env).cache[0]).toMatch(/: checksum does not match \(corrupt, or copied from another name\): compiled from source$/);

    // Writable by the group: someone else could have put code in it.
    chmodSync(file, 0o660);
    const shared = validate(env);
    expect(shared.cache[0]).toMatch(/: the file can be written by others \(mode 660\): compiled from source$/);
    expect(statSync(file).mode & 0o777).toBe(0o600); // replaced
    expect(shared.out).toBe(good.out);

    // Belonging to another user (only root can make one here).
    if (process.getuid?.() === 0) {
      chownSync(file, 65534, 65534);
      expect(validate(env).cache[0]).toMatch(/: the file belongs to uid 65534, not 0: compiled from source$/);
      expect(statSync(file).uid).toBe(0);
    }

    // A well-formed file whose code V8 refuses (compiled from another source).
    const other = new vm.Script('1 + 1');
    other.runInThisContext();
    writeCache(file, dir, other.createCachedData(), 'console');
    const refused = validate(env);
    expect(refused.cache[0]).toMatch(/: refused by V8 \(another V8 or other flags\): compiled from source$/);
    expect(refused.cache[1]).toMatch(/: written/);
    expect(refused.out).toBe(good.out);
    expect(validate(env).cache).toEqual([expect.stringMatching(/: used$/)]);
  }, 120_000);

  it('is not read from a directory others can write; canary makes its own directory 0700 again and writes; another user\'s is refused', () => {
    const { env, dir } = home();
    validate(env);
    chmodSync(dir, 0o777); // a umask of 002, or someone's chmod
    const shared = validate(env);
    expect(shared.cache[0]).toMatch(/: its directory \S+ can be written by others \(mode 777\): compiled from source$/);
    expect(shared.cache[1]).toMatch(/: written/);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(validate(env).cache).toEqual([expect.stringMatching(/: used$/)]);
    if (process.getuid?.() === 0) {
      chownSync(dir, 65534, 65534);
      chmodSync(dir, 0o777);
      const theirs = validate(env);
      expect(theirs.cache[0]).toMatch(/: its directory \S+ belongs to uid 65534, not 0: compiled from source$/);
      expect(theirs.cache[1]).toMatch(/: not written: its directory \S+ belongs to uid 65534, not 0$/);
    }
  }, 60_000);

  it('a bundle edited to the same length is compiled from source, not run as the old code (V8 compares only lengths)', () => {
    const { env } = home();
    const copy = join(tmp, `dist-${n}`);
    mkdirSync(copy);
    for (const f of ['canary.mjs', 'canary-app.cjs']) copyFileSync(join(root, 'dist', f), join(copy, f));
    const help = () => spawnSync(process.execPath, [join(copy, 'canary.mjs'), 'help'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(help().stdout).toContain('Exit codes:');
    expect(help().stderr).toMatch(/: used\n/);
    const app = join(copy, 'canary-app.cjs');
    const text = readFileSync(app, 'latin1');
    expect(text).toContain('Exit codes:');
    writeFileSync(app, text.replace('Exit codes:', 'EXIT CODES:'), 'latin1');
    expect(statSync(app).size).toBe(text.length);
    const edited = help();
    expect(edited.stderr).toMatch(/: none yet: compiled from source\n/);
    expect(edited.stdout).toContain('EXIT CODES:');
  }, 60_000);

  it('a FIFO planted under the cache file\'s name is passed over, not waited on (every command hung on it)', () => {
    const { env, dir } = home();
    const first = validate(env);
    const file = only(dir);
    rmSync(file);
    spawnSync('mkfifo', [file]);
    expect(statSync(file).isFIFO()).toBe(true);
    const r = validate(env); // spawnSync's timeout (60 s) fails the test if it hangs
    expect(r.cache[0]).toMatch(/: not a regular file: compiled from source$/);
    expect(r.out).toBe(first.out);
  }, 60_000);

  it("the plan cache in a linked directory is neither read nor tidied: someone else's *.json files stay", () => {
    const { env } = home();
    const cacheHome = env.XDG_CACHE_HOME!;
    const victim = join(tmp, `victim-${n}`);
    mkdirSync(victim, { mode: 0o700 });
    for (let i = 1; i <= 25; i++) writeFileSync(join(victim, `run-${String(i).padStart(2, '0')}.json`), '{}');
    mkdirSync(join(cacheHome, 'canary'), { recursive: true, mode: 0o700 });
    symlinkSync(victim, join(cacheHome, 'canary', 'plans'));
    for (let i = 0; i < 2; i++) validate(env);
    expect(readdirSync(victim).sort()).toEqual(Array.from({ length: 25 }, (_, i) => `run-${String(i + 1).padStart(2, '0')}.json`));
  }, 60_000);

  it('a Node without WebAssembly (--jitless): commands that do not draw run; the console says why in one line', () => {
    const { env } = home();
    const jit = { ...env, NODE_OPTIONS: '--jitless' };
    const v = spawnSync(process.execPath, [cli, 'validate', plan], { env: jit, encoding: 'utf8', timeout: 60_000 });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/post +5 validation commands/);
    const cmd = `stty cols 120 rows 40; exec ${[process.execPath, cli, 'start', '--no-journal'].map((a) => JSON.stringify(a)).join(' ')}`;
    const e: NodeJS.ProcessEnv = { ...jit, TERM: 'xterm-256color' };
    delete e.CI;
    const s = spawnSync('script', ['-qfec', cmd, '/dev/null'], { env: e, encoding: 'utf8', timeout: 60_000 });
    const lines = s.stdout.split(/\r?\n/).filter((l) => l.startsWith('canary: ') && !l.startsWith('canary: code cache'));
    expect(lines).toEqual([expect.stringMatching(/^canary: this command draws in the terminal, and its layout engine \(yoga\) could not start: this Node runs without WebAssembly \(--jitless\?\)\. /)]);
    expect(s.stdout.length).toBeLessThan(2000); // not a dump of the minified loader
  }, 60_000);

  it('CANARY_CODE_CACHE=off: neither read nor written', () => {
    const { env, dir } = home();
    const r = validate({ ...env, CANARY_CODE_CACHE: 'off' });
    expect(r.cache).toEqual([expect.stringMatching(/: off \(CANARY_CODE_CACHE=off\): compiled from source$/)]);
    expect(existsSync(dir)).toBe(false);
  }, 60_000);

  it('a console given a command\'s cache keeps its own once its first frame is out, and the next console uses it', async () => {
    const { env, dir } = home();
    validate(env);
    const file = only(dir);
    const scopeOf = () => readCache(file, dir);
    expect(scopeOf()).toMatchObject({ scope: 'command' });
    const commandSize = statSync(file).size;

    /** The console in a pseudo-terminal until `until`, then SIGTERM to canary (it exits, and says at
     * exit what happened to the code cache: CANARY_DEBUG=1); everything the terminal showed. */
    const run = async (until: (out: string) => boolean): Promise<string> => {
      const cmd = `stty cols 120 rows 40; exec ${[process.execPath, cli, 'start', '--no-journal'].map((a) => JSON.stringify(a)).join(' ')}`;
      const e: NodeJS.ProcessEnv = { ...env, TERM: 'xterm-256color' };
      delete e.CI;
      const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env: e, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<void>((r) => child.on('exit', () => r()));
      try {
        const deadline = Date.now() + 45_000;
        while (!until(out)) {
          if (Date.now() > deadline) throw new Error(`timed out; the terminal showed:\n${out.slice(-2000)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        const pid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]);
        process.kill(pid, 'SIGTERM');
        await exited;
        return out;
      } finally {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }
    };
    const framed = (out: string) => ['Phases', 'SLIs', 'Pods', 'Roster'].every((t) => out.includes(t));
    const first = await run((out) => framed(out) && (scopeOf() as { scope?: string }).scope === 'console');
    expect(first).toMatch(/code cache \S+: used/);
    expect(first).toMatch(/written \(\d+ bytes, console\)/);
    expect(statSync(file).size).toBeGreaterThan(commandSize); // the console's code too
    const second = await run(framed);
    expect(second).toMatch(/code cache \S+: used/);
    expect(second).not.toMatch(/written|refused/);
  }, 120_000);
});

describe('when the bin keeps the code (KeepPolicy)', () => {
  it('once with no cache; a console given a command\'s keeps its own; never after the flag change (review: a console whose first frame came after it kept code every later start refused)', () => {
    const none = new KeepPolicy(null);
    expect(none.wants({ scope: 'console' })).toBe(true);
    expect(none.wants({ scope: 'command', last: true })).toBe(false); // once
    const commandCache = new KeepPolicy('command');
    expect(commandCache.wants({ scope: 'command' })).toBe(false);
    expect(commandCache.wants({ scope: 'console' })).toBe(true);
    const consoleCache = new KeepPolicy('console');
    expect(consoleCache.wants({ scope: 'console' })).toBe(false);
    // the lean-heap moment comes first (a join before its server, a long replay, a loaded machine)
    const late = new KeepPolicy('command');
    expect(late.wants({ scope: 'command', last: true })).toBe(false);
    expect(late.wants({ scope: 'console' })).toBe(false);
    const lateNone = new KeepPolicy(null);
    expect(lateNone.wants({ scope: 'command', last: true })).toBe(true);
    expect(lateNone.wants({ scope: 'console' })).toBe(false);
  });
});

describe('cache files', () => {
  it('are named by the build, the Node, the architecture and the Node options', () => {
    const base = { version: 'v20.20.2', arch: 'x64', execArgv: ['--max-semi-space-size=8'], nodeOptions: undefined, app: '2655270:1796596558589:123:45' };
    const a = cacheFile('/c', 'hash1', base);
    expect(a).toMatch(/^\/c\/code-[0-9a-f]{32}\.v8$/);
    expect(cacheFile('/c', 'hash1', { ...base })).toBe(a);
    for (const other of [
      cacheFile('/c', 'hash2', base),
      cacheFile('/c', 'hash1', { ...base, version: 'v20.20.3' }),
      cacheFile('/c', 'hash1', { ...base, arch: 'arm64' }),
      cacheFile('/c', 'hash1', { ...base, execArgv: [] }),
      cacheFile('/c', 'hash1', { ...base, nodeOptions: '--max-old-space-size=100' }),
      cacheFile('/c', 'hash1', { ...base, app: '2655270:1796596558590:123:45' }), // the same build's file, edited
    ])
      expect(other).not.toBe(a);
  });

  it('keeps the four newest', () => {
    const dir = join(tmp, 'keep');
    const now = Date.now() / 1000;
    const name = (i: number) => `code-${String(i).repeat(32)}.v8`;
    for (let i = 0; i < 5; i++) {
      expect(writeCache(join(dir, name(i)), dir, Buffer.from(`data ${i}`), 'command')).toBe(6);
      utimesSync(join(dir, name(i)), now - 100 + i, now - 100 + i);
    }
    // not canary's: never touched; a temporary file a killed canary left an hour ago: removed; a fresh one (being written): kept
    writeFileSync(join(dir, 'notes.v8'), 'mine');
    writeFileSync(join(dir, `${name(9)}.4242.tmp`), 'left');
    utimesSync(join(dir, `${name(9)}.4242.tmp`), now - 3600, now - 3600);
    writeFileSync(join(dir, `${name(8)}.4243.tmp`), 'being written');
    expect(writeCache(join(dir, name(5)), dir, Buffer.from('data 5'), 'command')).toBe(6);
    expect(readdirSync(dir).sort()).toEqual([name(2), name(3), name(4), name(5), `${name(8)}.4243.tmp`, 'notes.v8'].sort());
    expect(readCache(join(dir, name(5)), dir)).toMatchObject({ scope: 'command', data: Buffer.from('data 5') });
    // copied to another key's name: the checksum covers the name
    writeFileSync(join(dir, name(7)), readFileSync(join(dir, name(5))), { mode: 0o600 });
    expect(readCache(join(dir, name(7)), dir)).toMatchObject({ data: null, why: 'checksum does not match (corrupt, or copied from another name)' });
  });
});
