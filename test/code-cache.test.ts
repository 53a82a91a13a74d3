// The bin's V8 code cache (src/launcher.ts, src/code-cache.ts), through the built CLI: the first
// run compiles and keeps its code, later runs use it, and a cache file that is corrupt, foreign,
// writable by others or refused by V8 is never used (the command runs as without one, and a good
// file replaces it). A console given a shorter command's cache keeps its own, before the lean-heap
// flag change (a cache kept after it would be refused by every later start).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheFile, readCache, writeCache } from '../src/code-cache.js';

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
    expect(afterFlip.cache[0]).toMatch(/: checksum does not match \(corrupt\): compiled from source$/);
    expect(afterFlip.cache[1]).toMatch(/: written/);
    expect(afterFlip.out).toBe(good.out);
    expect(validate(env).cache).toEqual([expect.stringMatching(/: used$/)]);

    // Cut short (a disk full, a copy interrupted).
    writeFileSync(file, bytes.subarray(0, 1000), { mode: 0o600 });
    expect(validate(env).cache[0]).toMatch(/: checksum does not match \(corrupt\): compiled from source$/);

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

  it('is neither read nor written in a directory others can write (they could swap the file, or plant a link under the temporary name)', () => {
    const { env, dir } = home();
    validate(env);
    chmodSync(dir, 0o777);
    const shared = validate(env);
    expect(shared.cache[0]).toMatch(/: its directory can be written by others \(mode 777\): compiled from source$/);
    expect(shared.cache[1]).toMatch(/: not written: the directory can be written by others \(mode 777\)$/);
    chmodSync(dir, 0o700);
    expect(validate(env).cache).toEqual([expect.stringMatching(/: used$/)]);
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

    const run = async (until: (out: string) => boolean): Promise<string> => {
      const cmd = `stty cols 120 rows 40; exec ${[process.execPath, cli, 'start', '--no-journal'].map((a) => JSON.stringify(a)).join(' ')}`;
      const e: NodeJS.ProcessEnv = { ...env, TERM: 'xterm-256color' };
      delete e.CI;
      const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env: e, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      try {
        const deadline = Date.now() + 45_000;
        while (!until(out)) {
          if (Date.now() > deadline) throw new Error(`timed out; the terminal showed:\n${out.slice(-2000)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
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
    const first = await run((out) => framed(out) && /written \(\d+ bytes, console\)/.test(out));
    expect(first).toMatch(/code cache \S+: used/);
    const kept = scopeOf();
    expect(kept).toMatchObject({ scope: 'console' });
    expect(statSync(file).size).toBeGreaterThan(commandSize); // the console's code too
    const second = await run(framed);
    expect(second).toMatch(/code cache \S+: used/);
    expect(second).not.toMatch(/written|refused/);
  }, 120_000);
});

describe('cache files', () => {
  it('are named by the build, the Node, the architecture and the Node options', () => {
    const base = { version: 'v20.20.2', arch: 'x64', execArgv: ['--max-semi-space-size=8'], nodeOptions: undefined };
    const a = cacheFile('/c', 'hash1', base);
    expect(a).toMatch(/^\/c\/code-[0-9a-f]{32}\.v8$/);
    expect(cacheFile('/c', 'hash1', { ...base })).toBe(a);
    for (const other of [
      cacheFile('/c', 'hash2', base),
      cacheFile('/c', 'hash1', { ...base, version: 'v20.20.3' }),
      cacheFile('/c', 'hash1', { ...base, arch: 'arm64' }),
      cacheFile('/c', 'hash1', { ...base, execArgv: [] }),
      cacheFile('/c', 'hash1', { ...base, nodeOptions: '--max-old-space-size=100' }),
    ])
      expect(other).not.toBe(a);
  });

  it('keeps the four newest', () => {
    const dir = join(tmp, 'keep');
    const now = Date.now() / 1000;
    for (let i = 0; i < 5; i++) {
      expect(writeCache(join(dir, `code-${i}0.v8`), dir, Buffer.from(`data ${i}`), 'command')).toBe(6);
      utimesSync(join(dir, `code-${i}0.v8`), now - 100 + i, now - 100 + i);
    }
    expect(writeCache(join(dir, 'code-50.v8'), dir, Buffer.from('data 5'), 'command')).toBe(6);
    expect(readdirSync(dir).sort()).toEqual(['code-20.v8', 'code-30.v8', 'code-40.v8', 'code-50.v8']);
    expect(readCache(join(dir, 'code-50.v8'), dir)).toMatchObject({ scope: 'command', data: Buffer.from('data 5') });
  });
});
