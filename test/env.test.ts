// The environment is read once, in src/env.ts, into the object the commands get (Ctx.env): no
// other module of src/ or components/ reads process.env, so a test injects any of it.
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { buildProgram } from '../src/commands/program.js';
import { COMMANDS, DEFAULT_COMMAND } from '../src/commands/registry.js';
import { applyToProcess, planCacheDir, readEnv } from '../src/env.js';
import { readJoinToken } from '../src/warroom/commands.js';

const root = join(import.meta.dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'canary-env-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : /\.tsx?$/.test(n) ? [p] : [];
  });
}

describe('the environment, read once', () => {
  it('no module of src/ or components/ but src/env.ts reads process.env', () => {
    const readers = [...sources(join(root, 'src')), ...sources(join(root, 'components'))]
      .filter((f) => relative(root, f) !== join('src', 'env.ts'))
      .filter((f) => /process\.env\b/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f));
    expect(readers).toEqual([]);
  });

  it('readEnv takes what it is given: cache, plan cache off, the war-room token, and --no-color for children', () => {
    const env = readEnv({ XDG_CACHE_HOME: '/c', XDG_STATE_HOME: '/s', CANARY_PLAN_CACHE: 'off', CANARY_CODE_CACHE: 'off', CANARY_TOKEN: ' cnry_x \n', PATH: '/bin' }, { noColor: true });
    expect(env).toMatchObject({ cacheHome: '/c', stateHome: '/s', planCache: false, codeCache: false, token: 'cnry_x', noColor: true });
    expect(readEnv({}).codeCache).toBe(true);
    for (const off of ['0', 'false', 'OFF', 'no']) expect(readEnv({ CANARY_CODE_CACHE: off }).codeCache).toBe(false);
    // a relative XDG directory is ignored, as the XDG spec says (it wrote ./rel/canary/... wherever canary ran)
    const rel = readEnv({ XDG_CACHE_HOME: 'rel', XDG_STATE_HOME: './st', XDG_CONFIG_HOME: 'cfg' });
    expect([rel.cacheHome, rel.stateHome, rel.configHome]).toEqual([join(homedir(), '.cache'), join(homedir(), '.local', 'state'), join(homedir(), '.config')]);
    expect(planCacheDir(env)).toBeNull();
    expect(planCacheDir(readEnv({ XDG_CACHE_HOME: '/c' }))).toBe(join('/c', 'canary', 'plans'));
    expect(env.vars).toMatchObject({ PATH: '/bin', NO_COLOR: '1', FORCE_COLOR: '0' });
    expect(readJoinToken(undefined, env.token)).toBe('cnry_x');
    expect(() => readJoinToken(undefined, readEnv({}).token)).toThrow(/no token: set CANARY_TOKEN/);
  });

  it('a command run with an injected environment writes under its XDG_STATE_HOME, not the process one', async () => {
    const state = join(tmp, 'state');
    const out = new PassThrough();
    const err = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const built = buildProgram(COMMANDS, { out: out as unknown as NodeJS.WriteStream, err: err as unknown as NodeJS.WriteStream, environ: { XDG_STATE_HOME: state, XDG_CACHE_HOME: join(tmp, 'cache'), HOME: tmp } }, DEFAULT_COMMAND);
    await built.program.parseAsync(['tokens', '--viewers', '1'], { from: 'user' });
    expect(built.result()).toBe(0);
    const files = existsSync(join(state, 'canary')) ? readdirSync(join(state, 'canary')) : [];
    expect(files.some((f) => f.endsWith('-tokens.json'))).toBe(true);
    expect(text).toContain(join(state, 'canary'));
  });
});

describe('CI with a terminal on stdout', () => {
  it('is named by is-in-ci\'s rule only when stdout is a terminal; children still get CI', () => {
    expect(readEnv({ CI: 'true' }, { terminal: true }).ciOnTerminal).toBe(true);
    expect(readEnv({ CONTINUOUS_INTEGRATION: '' }, { terminal: true }).ciOnTerminal).toBe(true);
    expect(readEnv({ CI: 'true' }, { terminal: false }).ciOnTerminal).toBe(false);
    expect(readEnv({ CI: 'true' }).ciOnTerminal).toBe(false);
    expect(readEnv({ CI: 'false', CONTINUOUS_INTEGRATION: '0' }, { terminal: true }).ciOnTerminal).toBe(false);
    expect(readEnv({ CI: 'true' }, { terminal: true }).vars.CI).toBe('true');
  });

  it('applyToProcess hides CI and CONTINUOUS_INTEGRATION from this process then, and only then', () => {
    const saved = { CI: process.env.CI, CONTINUOUS_INTEGRATION: process.env.CONTINUOUS_INTEGRATION };
    try {
      process.env.CI = 'true';
      process.env.CONTINUOUS_INTEGRATION = '1';
      applyToProcess(readEnv({ CI: 'true', CONTINUOUS_INTEGRATION: '1' }, { terminal: false }));
      expect([process.env.CI, process.env.CONTINUOUS_INTEGRATION]).toEqual(['true', '1']);
      applyToProcess(readEnv({ CI: 'true', CONTINUOUS_INTEGRATION: '1' }, { terminal: true }));
      expect('CI' in process.env || 'CONTINUOUS_INTEGRATION' in process.env).toBe(false);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
