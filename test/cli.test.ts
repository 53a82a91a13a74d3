// The command line as a user meets it: the built binary's help for every command of the registry,
// --version, exit code 2 for usage errors (with where help is), numeric ranges, completion scripts
// (the bash one sourced in bash), the one-line message of a console without a terminal, and never
// a stack trace for anything a user can type.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/commands/registry.js';
import { rangeText, type OptionTable } from '../src/commands/options.js';
import type { CommandSpec } from '../src/commands/types.js';
import { reportError } from '../src/cli.js';
import { UsageError, UserError } from '../src/commands/errors.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'canary.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'canary-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Result {
  code: number | null;
  out: string;
  err: string;
}

/** The built CLI with stdin not a terminal (/dev/null), as a script or CI runs it. */
function canary(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    const e: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: join(tmp, 'state'), ...env };
    execFile(process.execPath, [cli, ...args], { cwd: tmp, env: e, timeout: 60_000, maxBuffer: 16 << 20 }, (error, out, err) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out, err }),
    );
  });
}

/** Every command of the registry with its path, subcommands included: `audit verify`. */
function everyCommand(): { path: string; spec: CommandSpec<any> }[] {
  const all: { path: string; spec: CommandSpec<any> }[] = [];
  const visit = (spec: CommandSpec<any>, prefix: string) => {
    const path = prefix ? `${prefix} ${spec.name}` : spec.name;
    all.push({ path, spec });
    for (const s of spec.subcommands ?? []) visit(s, path);
  };
  for (const c of COMMANDS) visit(c, '');
  return all;
}

/** A stack trace's frames ("    at fn (file:line:col)"). */
const STACK = /^\s+at .+[:(]\d+/m;

describe('help from the registry', () => {
  it.each(everyCommand().map((c) => [c.path, c.spec] as const))('canary %s --help: usage, every option with its range, examples', async (path, spec) => {
    const r = await canary([...path.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toContain(`Usage: canary ${path}`);
    expect(r.out.replace(/\s+/g, ' ')).toContain(spec.summary);
    for (const [name, o] of Object.entries(spec.options as OptionTable)) {
      expect(r.out).toContain(`--${name}`);
      if (o.type === 'number') expect(r.out.replace(/\s+/g, ' ')).toContain(rangeText(o));
    }
    for (const a of spec.args ?? []) expect(r.out).toContain(a.name);
    expect(r.out).toContain('Examples:');
    for (const e of spec.examples) expect(r.out).toContain(e.cmd);
    for (const s of spec.subcommands ?? []) expect(r.out).toContain(s.name);
    // `canary help <cmd>` says the same.
    const help = await canary(['help', ...path.split(' ')]);
    expect(help.code).toBe(0);
    expect(help.out).toBe(r.out);
  });

  it('canary help (and --help) lists every command and the exit codes', async () => {
    const r = await canary(['help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.out).toMatch(new RegExp(`^  ${c.name}\\b`, 'm'));
    expect(r.out).toMatch(/^  2 +usage/m);
    expect((await canary(['--help'])).out).toBe(r.out);
  });

  it('--version prints the version of package.json', async () => {
    const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    for (const flag of ['--version', '-V']) {
      const r = await canary([flag]);
      expect(r.code).toBe(0);
      expect(r.out.trim()).toBe(version);
    }
  });
});

describe('usage errors exit 2 with what was wrong and where help is', () => {
  it.each([
    [['bogus'], /unknown command "bogus"/, 'canary --help'],
    [['help', 'bogus'], /unknown command "bogus"/, 'canary --help'],
    [['start', '--bogus'], /unknown option '--bogus'/, 'canary start --help'],
    [['--bogus'], /unknown option '--bogus'/, 'canary start --help'],
    [['run', '--headless', '--scenario', 'nope'], /--scenario.*'nope' is invalid.*healthy/, 'canary run --help'],
    [['validate'], /missing required argument 'plan'/, 'canary validate --help'],
    [['validate', 'a.yaml', 'b.yaml'], /too many arguments/, 'canary validate --help'],
    [['audit'], /needs a subcommand: verify/, 'canary audit --help'],
    [['audit', 'verify', 'j.jsonl', '-o', 'xml'], /'xml' is invalid/, 'canary audit verify --help'],
    [['completion', 'tcsh'], /'tcsh' is invalid/, 'canary completion --help'],
    [['run'], /needs --headless/, 'canary run --help'],
    [['status'], /needs --journal/, 'canary status --help'],
  ])('canary %j', async (args, what, hint) => {
    const r = await canary(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(what);
    expect(r.err).toContain(`see \`${hint}\``);
    expect(r.err).not.toMatch(STACK);
    expect(r.err.trim().split('\n')).toHaveLength(2);
  });

  it('a plan problem stays exit 1', async () => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: nope\n');
    const r = await canary(['run', '--headless', '--plan', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.yaml:\d+:\d+/);
  });
});

describe('numeric options: a range, checked at parse time and stated in help', () => {
  const numeric = everyCommand().flatMap(({ path, spec }) =>
    Object.entries(spec.options as OptionTable).flatMap(([name, o]) => (o.type === 'number' ? [[path, name, o] as const] : [])),
  );
  it('every command that runs a rollout bounds --speed, --pods-per-region, --seed, --regress-at', () => {
    const names = new Set(numeric.map(([, n]) => n));
    for (const n of ['speed', 'pods-per-region', 'seed', 'regress-at', 'viewers']) expect(names).toContain(n);
  });
  it.each(numeric.map(([path, name, o]) => [path, name, o.min, o.max, o] as const))('canary %s --%s outside %s..%s: exit 2 with the option, the value and the range', async (path, name, _min, _max, o) => {
    const extra = path === 'run' ? ['--headless'] : [];
    for (const value of [String(o.max * 10 + 1), String(o.min - 1), 'abc', ...(o.integer ? [String(o.min + 0.5)] : [])]) {
      const r = await canary([...path.split(' '), ...extra, `--${name}`, value]);
      expect(r.code, `--${name} ${value}`).toBe(2);
      expect(r.err).toContain(`--${name}`);
      expect(r.err).toContain(`'${value}'`);
      expect(r.err).toContain(rangeText(o));
    }
  });
  it('ports: host:port with a port in 0..65535', async () => {
    for (const [flag, cmd] of [['--export', 'run'], ['--sim-http', 'run'], ['--listen', 'serve']] as const) {
      const r = await canary([cmd, ...(cmd === 'run' ? ['--headless'] : []), flag, '127.0.0.1:70000']);
      expect(r.code, flag).toBe(2);
      expect(r.err).toContain(flag);
      expect(r.err).toContain('0..65535');
    }
  });
});

describe('SIGTERM and SIGINT at the top of the ranges', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('run --headless --speed <max> --pods-per-region <max>: %s stops it (exit 130)', async (sig) => {
    const start = COMMANDS.find((c) => c.name === 'run')!.options as OptionTable;
    const speed = start.speed!.type === 'number' ? start.speed!.max : 0;
    const pods = start['pods-per-region']!.type === 'number' ? start['pods-per-region']!.max : 0;
    const child = spawn(process.execPath, [cli, 'run', '--headless', '--no-journal', '--scenario', 'healthy', '--speed', String(speed), '--pods-per-region', String(pods)], { cwd: tmp });
    let out = '';
    const code = await new Promise<number | null>((resolve) => {
      let sent = false;
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        // Once the rollout is under way (a weight is out), stop it. (At 100000 simulated seconds a
        // second a loaded machine's world used to fall behind its clock and end a healthy run with
        // exit 5 first; simulated time now waits for the world, test/backpressure.test.tsx.)
        if (!sent && /running canary-1/.test(out)) {
          sent = true;
          child.kill(sig);
        }
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code).toBe(130);
    expect(out).toMatch(new RegExp(`exit 130: stopped by ${sig}`));
  }, 60_000);
});

/** The console in a pseudo-terminal (util-linux `script`), as a person runs it: waits for the first
 * full frame, sends `sig` to canary itself, and resolves to canary's exit code and what it drew. */
function consoleInPty(args: string[], sig: NodeJS.Signals, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const cmd = `stty cols 120 rows 40; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} ${args.map((a) => JSON.stringify(a)).join(' ')}`;
    const e: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', XDG_STATE_HOME: join(tmp, 'state'), ...env };
    delete e.CI; // Ink prints only the last frame in CI mode
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: tmp, env: e, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let sent = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no frame, or no exit after ${sig}; output:\n${out.slice(-2000)}`));
    }, 45_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!sent && ['Phases', 'SLIs', 'Pods'].every((t) => out.includes(t))) {
        sent = true;
        // script's child is canary (exec).
        const pid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]);
        process.kill(pid, sig);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('the console in a terminal', () => {
  const top = (name: string) => {
    const o = (COMMANDS.find((c) => c.name === 'start')!.options as OptionTable)[name]!;
    return String(o.type === 'number' ? o.max : '');
  };
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('start --speed <max> --pods-per-region <max>: %s ends it (exit %i) and leaves the alternate screen', async (sig, code) => {
    const r = await consoleInPty(['start', '--no-journal', '--speed', top('speed'), '--pods-per-region', top('pods-per-region')], sig);
    expect(r.code).toBe(code);
    expect(r.out.lastIndexOf('\x1b[?1049l')).toBeGreaterThan(r.out.lastIndexOf('\x1b[?1049h'));
  }, 60_000);

  it('--no-color (anywhere on the line) and NO_COLOR draw no colour; without them there is colour', async () => {
    const colour = /\x1b\[(3[0-7]|9[0-7]|38;[25];)/;
    const plain = await consoleInPty(['start', '--no-journal', '--no-color'], 'SIGTERM');
    expect(plain.out).not.toMatch(colour);
    const first = await consoleInPty(['--no-color', 'start', '--no-journal'], 'SIGTERM');
    expect(first.out).not.toMatch(colour);
    const env = await consoleInPty(['start', '--no-journal'], 'SIGTERM', { NO_COLOR: '1' });
    expect(env.out).not.toMatch(colour);
    const coloured = await consoleInPty(['start', '--no-journal'], 'SIGTERM', { NO_COLOR: '', FORCE_COLOR: '1' });
    expect(coloured.out).toMatch(colour);
  }, 120_000);
});

describe('completion scripts from the registry', () => {
  it.each(['bash', 'zsh', 'fish'])('canary completion %s names every command and its options', async (shell) => {
    const r = await canary(['completion', shell]);
    expect(r.code).toBe(0);
    for (const { spec } of everyCommand()) {
      expect(r.out).toContain(spec.name);
      for (const name of Object.keys(spec.options)) expect(r.out).toContain(shell === 'fish' ? `-l ${name}` : `--${name}`);
    }
  });

  it('the bash script, sourced in bash, completes `canary st` to start and status (and more)', async () => {
    const script = (await canary(['completion', 'bash'])).out;
    const file = join(tmp, 'canary.bash');
    writeFileSync(file, script);
    mkdirSync(join(tmp, 'files'), { recursive: true });
    writeFileSync(join(tmp, 'files', 'plan-a.yaml'), '');
    const complete = (...words: string[]) => {
      const r = spawnSync('bash', ['--norc', '-c', `source ${JSON.stringify(file)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _canary_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], {
        cwd: tmp,
        encoding: 'utf8',
      });
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter(Boolean).sort();
    };
    expect(complete('canary', 'st')).toEqual(['start', 'status']);
    expect(complete('canary', 'audit', '')).toEqual(['verify']);
    expect(complete('canary', 'help', 're')).toEqual(['replay', 'report']);
    expect(complete('canary', 'start', '--scenario', 'c')).toEqual(['crashloop']);
    expect(complete('canary', 'start', '--plan', 'files/pl')).toEqual(['files/plan-a.yaml']);
    expect(complete('canary', 'start', '--plan', 'x.yaml', '--no-c')).toEqual(['--no-crew']);
    expect(complete('canary', 'audit', 'verify', '-o', 'j')).toEqual(['json']);
    expect(complete('canary', 'completion', 'f')).toEqual(['fish']);
    expect(complete('canary', '--ver')).toEqual(['--version']);
  });
});

describe('no stack trace for anything a user can type', () => {
  let journal = '';
  beforeAll(async () => {
    journal = join(tmp, 'j.jsonl');
    const r = await canary(['run', '--headless', '--scenario', 'healthy', '--until', 'canary-1', '--journal', journal]);
    expect(r.code).toBe(0);
  });

  it('audit verify --expect-head malformed: exit 2, one line that says the expected form', async () => {
    const r = await canary(['audit', 'verify', journal, '--expect-head', 'not-a-head']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--expect-head.*'not-a-head' is invalid.*<seq>:<hash>/);
    expect(r.err).not.toMatch(STACK);
  });

  it('audit verify <a directory>: exit 1, one line', async () => {
    const r = await canary(['audit', 'verify', tmp]);
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe(`canary: ${tmp} is a directory; give the journal file in it (e.g. ${tmp}/<plan>.jsonl)`);
  });

  it.each([['report'], ['replay'], ['status', '--journal']])('%s <a directory> or a missing file: one line, exit 1', async (...cmd) => {
    for (const target of [tmp, join(tmp, 'missing.jsonl')]) {
      const r = await canary([...cmd, target]);
      expect(r.code).toBe(1);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).not.toMatch(STACK);
    }
  });

  it('a console with stdin not a terminal: one line that says what to do, exit 1', async () => {
    for (const cmd of [[], ['start'], ['serve'], ['start', '--scenario', 'healthy']]) {
      const r = await canary(cmd);
      expect(r.code, cmd.join(' ')).toBe(1);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toContain('stdin is not a terminal');
      expect(r.err).toContain('canary run --headless');
      expect(r.err).not.toMatch(/Raw mode/);
    }
  });

  it('an internal error: a short message and where to report; the stack only with CANARY_DEBUG=1', () => {
    const sink = () => {
      let text = '';
      return { write: (s: string) => ((text += s), true), text: () => text } as unknown as NodeJS.WritableStream & { text(): string };
    };
    const quiet = sink();
    expect(reportError(new TypeError('x is undefined'), quiet, false)).toBe(1);
    expect(quiet.text()).toMatch(/^canary: internal error: TypeError: x is undefined\ncanary: this is a bug in canary: please report it/);
    expect(quiet.text()).not.toMatch(STACK);
    const debug = sink();
    reportError(new TypeError('x is undefined'), debug, true);
    expect(debug.text()).toMatch(STACK);
    const user = sink();
    expect(reportError(new UserError('plan.yaml: no such file'), user, true)).toBe(1);
    expect(user.text()).toBe('canary: plan.yaml: no such file\n');
    const usage = sink();
    expect(reportError(new UsageError('unknown option --x', 'canary start'), usage, true)).toBe(2);
  });
});

describe('machine output: -o json|yaml', () => {
  it('validate -o json|yaml: one object, valid or with every problem', async () => {
    const plan = join(root, 'config', 'maestro-conductor-rc.yaml');
    const ok = await canary(['validate', plan, '-o', 'json']);
    expect(ok.code).toBe(0);
    const v = JSON.parse(ok.out) as { valid: boolean; problems: unknown[]; plan: { name: string } };
    expect(v).toMatchObject({ valid: true, problems: [], plan: { name: 'maestro-conductor-vnext-rc' } });
    const y = await canary(['validate', plan, '-o', 'yaml']);
    expect(y.out).toMatch(/^valid: true$/m);
    const bad = join(tmp, 'bad2.yaml');
    writeFileSync(bad, 'apiVersion: nope\n');
    const b = await canary(['validate', bad, '--output', 'json']);
    expect(b.code).toBe(1);
    const bv = JSON.parse(b.out) as { valid: boolean; problems: { line: number; message: string }[] };
    expect(bv.valid).toBe(false);
    expect(bv.problems.length).toBeGreaterThan(0);
    expect(bv.problems[0]!.line).toBeGreaterThan(0);
  });

  it('validate --against <url>: each SLI query once at a live server; two series named on its SLI, exit 1', async () => {
    const plan = join(root, 'config', 'maestro-conductor-rc.yaml');
    let queries = 0;
    // A Prometheus that answers every instant query with two series: what a query without sum() gives.
    const server = http.createServer((req, res) => {
      queries += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [0, 1].map((i) => ({ metric: { pod: `p${i}` }, value: [1_700_000_000, '1'] })) } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await canary(['validate', plan, '--against', url]);
      expect(r.code, r.err).toBe(1);
      expect(r.out).toMatch(/✗ slis\[\d+\]\.query \S+\/canary: query returned 2 series/);
      expect(queries).toBeGreaterThan(0);
      expect((await canary(['validate', plan, '--against', url, '-o', 'json'])).code).toBe(2);
    } finally {
      server.close();
    }
  });

  it('audit verify -o json; status --json is -o json', async () => {
    const journal = join(tmp, 'j2.jsonl');
    expect((await canary(['run', '--headless', '--scenario', 'healthy', '--until', 'canary-1', '--journal', journal])).code).toBe(0);
    const a = await canary(['audit', 'verify', journal, '-o', 'json']);
    expect(a.code).toBe(0);
    const av = JSON.parse(a.out) as { ok: boolean; entries: number; head: { seq: number; hash: string } };
    expect(av.ok).toBe(true);
    expect(av.head.hash).toMatch(/^[0-9a-f]{64}$/);
    const head = `${av.head.seq}:${av.head.hash}`;
    expect((await canary(['audit', 'verify', journal, '--expect-head', head])).code).toBe(0);
    const s1 = await canary(['status', '--journal', journal, '--json']);
    const s2 = await canary(['status', '--journal', journal, '-o', 'json']);
    expect(s1.code).toBe(0);
    expect(JSON.parse(s1.out)).toEqual(JSON.parse(s2.out));
    const s3 = await canary(['status', '--journal', journal, '-o', 'yaml']);
    expect(s3.out).toMatch(/^plan: maestro-conductor-vnext-rc$/m);
  });
});
