// What `canary start` runs before its first frame (issue 18: start cost). A plan validated before
// comes from the plan cache, so the YAML parser and zod must not be initialised at all; they are
// when the plan has to be validated, and when a key config file has to be checked.
//
// The CLI is one script (dist/canary-app.cjs, src/launcher.ts): esbuild wraps each module that is
// loaded lazily (an import() in our source) in a function named by its path, run on first use, so
// what ran is what V8's coverage (NODE_V8_COVERAGE, written at exit) counts as called. A module
// esbuild did not wrap runs at every start and is named by no function: the cold start's
// assertions (yaml and zod did run) fail if that ever happens to them, rather than the warm
// start's passing by default.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist', 'canary.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'canary-start-modules-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Coverage {
  result: { url: string; functions: { functionName: string; ranges: { count: number }[] }[] }[];
}

/** Starts the console in a 120x40 pseudo-terminal, waits for its first full frame, ends it (SIGTERM
 * to canary itself, which exits and so writes its coverage) and returns the modules of the bundle
 * whose wrapper ran: 'src/plan/load.ts', 'node_modules/yaml/dist/index.js'... */
function startAndRecord(name: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const coverage = join(tmp, `${name}.coverage`);
  const argv = [process.execPath, cli, 'start', '--no-journal'];
  const cmd = `stty cols 120 rows 40; exec ${argv.map((a) => JSON.stringify(a)).join(' ')}`;
  const e: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', NODE_V8_COVERAGE: coverage, ...env };
  delete e.CI; // Ink prints only the last frame in CI mode
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: tmp, env: e, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let framed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name}: no first frame; the terminal showed:\n${out.slice(-2000)}`));
    }, 45_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!framed && ['Phases', 'SLIs', 'Pods', 'Roster'].every((t) => out.includes(t))) {
        framed = true;
        // script's child is canary (exec).
        const pid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]);
        process.kill(pid, 'SIGTERM');
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      if (!framed) return reject(new Error(`${name}: ended before its first frame:\n${out.slice(-2000)}`));
      const ran = new Set<string>();
      let scripts = 0;
      for (const f of existsSync(coverage) ? readdirSync(coverage) : []) {
        for (const script of (JSON.parse(readFileSync(join(coverage, f), 'utf8')) as Coverage).result) {
          if (!script.url.endsWith('/dist/canary-app.cjs')) continue;
          scripts++;
          for (const fn of script.functions) if (/^(src|components|node_modules)\//.test(fn.functionName) && (fn.ranges[0]?.count ?? 0) > 0) ran.add(fn.functionName);
        }
      }
      if (scripts === 0) return reject(new Error(`${name}: no coverage of dist/canary-app.cjs in ${coverage}`));
      resolve([...ran]);
    });
  });
}

/** The packages (node_modules/<name>) of which a module ran. */
function packagesIn(modules: string[]): Set<string> {
  const out = new Set<string>();
  for (const m of modules) {
    const p = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(m);
    if (p) out.add(p[1]!);
  }
  return out;
}

describe('canary start: what it loads before its first frame', () => {
  it('a plan from the cache loads neither yaml nor zod; validating a plan, or checking a key config file, loads them', async () => {
    const env = { XDG_CACHE_HOME: join(tmp, 'cache'), XDG_STATE_HOME: join(tmp, 'state'), XDG_CONFIG_HOME: join(tmp, 'config') };
    // First start: the plan is validated (and cached), with the parser and the schema.
    const cold = packagesIn(await startAndRecord('cold', env));
    expect(cold).toContain('yaml');
    expect(cold).toContain('zod');
    // Every later start: the cached plan, and no config file.
    const warmModules = await startAndRecord('warm', env);
    const warm = packagesIn(warmModules);
    expect(warm).toContain('ink'); // it did draw
    expect(warm).not.toContain('yaml');
    expect(warm).not.toContain('zod');
    // The embedded world never talks to a Kubernetes API server: its client (https, readline) is
    // not loaded either (the rollback hook's stand-in runs without it: src/actuators/hook.ts).
    expect(warmModules).toContain('src/plan/cache.ts'); // the plan came from the cache
    expect(warmModules).not.toContain('src/kube/client.ts');
    // A key config file is checked (its YAML, its shape) before the console starts.
    mkdirSync(join(tmp, 'config', 'canary'), { recursive: true });
    writeFileSync(join(tmp, 'config', 'canary', 'config.yaml'), 'keys:\n  help: "?"\n');
    const configured = packagesIn(await startAndRecord('configured', env));
    expect(configured).toContain('yaml');
    expect(configured).toContain('zod');
  }, 120_000);
});
