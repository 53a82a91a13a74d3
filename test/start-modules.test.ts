// What `canary start` loads before its first frame (issue 18: start cost). A plan validated before
// comes from the plan cache, so the YAML parser and zod (~0.7 MB that Node would otherwise compile
// on every start) must not be loaded at all; they are loaded when the plan has to be validated, and
// when a key config file has to be checked. The built CLI runs in a pseudo-terminal with a module
// hook recording every file it loads (test/fixtures/loads/); build/bundle.mjs says which packages
// went into each file (dist/.modules.json).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist', 'canary.mjs');
const hook = join(root, 'test', 'fixtures', 'loads', 'register.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'canary-start-modules-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Starts the console in a 120x40 pseudo-terminal, waits for its first full frame, ends it (SIGTERM
 * to canary itself) and returns the files of dist/ it loaded, relative to the package root. */
function startAndRecord(name: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const log = join(tmp, `${name}.loads`);
  const argv = [process.execPath, '--import', hook, cli, 'start', '--no-journal'];
  const cmd = `stty cols 120 rows 40; exec ${argv.map((a) => JSON.stringify(a)).join(' ')}`;
  const e: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', CANARY_TEST_LOADS: log, ...env };
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
      const urls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
      resolve(urls.map((u) => relative(root, fileURLToPath(u))).filter((f) => f.startsWith('dist/')));
    });
  });
}

/** Our own source files bundled into these files of dist/. */
function sourcesIn(files: string[]): string[] {
  const modules = JSON.parse(readFileSync(join(root, 'dist', '.modules.json'), 'utf8')) as Record<string, string[]>;
  return files.flatMap((f) => modules[f] ?? []).filter((input) => !input.startsWith('node_modules/'));
}

/** The packages (node_modules/<name>) bundled into these files of dist/. */
function packagesIn(files: string[]): Set<string> {
  const modules = JSON.parse(readFileSync(join(root, 'dist', '.modules.json'), 'utf8')) as Record<string, string[]>;
  const out = new Set<string>();
  for (const f of files) {
    expect(modules[f], `${f} is a file of the build`).toBeDefined();
    for (const input of modules[f]!) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (m) out.add(m[1]!);
    }
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
    const warmFiles = await startAndRecord('warm', env);
    expect(warmFiles).toContain('dist/canary.mjs');
    const warm = packagesIn(warmFiles);
    expect(warm).toContain('ink'); // it did draw
    expect(warm).not.toContain('yaml');
    expect(warm).not.toContain('zod');
    // The embedded world never talks to a Kubernetes API server: its client (https, readline) is
    // not loaded either (the rollback hook's stand-in runs without it: src/actuators/hook.ts).
    expect(sourcesIn(warmFiles)).not.toContain('src/kube/client.ts');
    // A key config file is checked (its YAML, its shape) before the console starts.
    mkdirSync(join(tmp, 'config', 'canary'), { recursive: true });
    writeFileSync(join(tmp, 'config', 'canary', 'config.yaml'), 'keys:\n  help: "?"\n');
    const configured = packagesIn(await startAndRecord('configured', env));
    expect(configured).toContain('yaml');
    expect(configured).toContain('zod');
  }, 120_000);
});
