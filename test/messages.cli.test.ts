// Command-line messages and README commands found by the adversarial review: a journal read with
// another plan file says which plan was read and to pass --plan; --expect-head takes the head as
// README shows it (a prefix of 16+ hex digits, as git takes a commit's); the completion scripts
// complete canary the ways people run it (`canary`, `npx canary`, `node dist/canary.mjs`); and
// every command README writes names commands and options that exist.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, DEFAULT_COMMAND } from '../src/commands/registry.js';
import { checkHead } from '../src/commands/audit.js';
import type { OptionTable } from '../src/commands/options.js';
import type { CommandSpec } from '../src/commands/types.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'canary.mjs');
const DEFAULT_PLAN = join(root, 'config', 'maestro-conductor-rc.yaml');
const README = readFileSync(join(root, 'README.md'), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'canary-messages-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Result {
  code: number | null;
  out: string;
  err: string;
}

/** The built CLI in `tmp`, stdin not a terminal. */
function canary(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const env = { ...process.env, XDG_STATE_HOME: join(tmp, 'state'), XDG_CACHE_HOME: join(tmp, 'cache') };
    execFile(process.execPath, [cli, ...args], { cwd: tmp, env, timeout: 120_000, maxBuffer: 16 << 20 }, (error, out, err) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out, err }),
    );
  });
}

const STACK = /^\s+at .+[:(]\d+/m;
/** The fewest hex digits of a head --expect-head takes (src/commands/audit.ts MIN_HEAD_PREFIX). */
const MIN_HEAD_PREFIX = 16;

describe('a journal read with another plan file', () => {
  const journal = join(tmp, 'j.jsonl');
  const other = join(tmp, 'other.yaml');
  const renamed = join(tmp, 'renamed.yaml');
  beforeAll(async () => {
    // The same plan with one word changed (as a team's copy of it would be), and one renamed.
    const ref = readFileSync(DEFAULT_PLAN, 'utf8');
    writeFileSync(other, ref.replace('  owner: SRE Team\n', '  owner: SRE Team (our copy)\n'));
    writeFileSync(renamed, ref.replace('  name: maestro-conductor-vnext-rc\n', '  name: renamed-plan\n'));
    const r = await canary(['run', '--headless', '--scenario', 'healthy', '--until', 'canary-1', '--plan', 'other.yaml', '--journal', journal]);
    expect(r.code, r.err).toBe(0);
  }, 120_000);

  it('status without --plan: which plan it read (the default), and to pass --plan; exit 1, one line', async () => {
    const r = await canary(['status', '--journal', 'j.jsonl']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(
      new RegExp(`^canary: j\\.jsonl was written with another plan file than the default plan, ${DEFAULT_PLAN.replace(/[.]/g, '\\.')} \\(no --plan was given\\): both are plan "maestro-conductor-vnext-rc", but the text differs \\(sha256 [0-9a-f]{12}\\.\\.\\., the journal's [0-9a-f]{12}\\.\\.\\.\\)`),
    );
    expect(r.err.trim()).toMatch(/; pass the plan file it ran with, unchanged: --plan <file>$/);
    expect(r.err).not.toContain('the plan file changed since the journal was opened');
    expect(r.err).not.toMatch(STACK);
  });

  it('status with the plan it ran with: the summary', async () => {
    const r = await canary(['status', '--journal', 'j.jsonl', '--plan', 'other.yaml']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('maestro-conductor-vnext-rc');
  });

  it('status with a plan of another name: both names, and the --plan that was given', async () => {
    const r = await canary(['status', '--journal', 'j.jsonl', '--plan', 'renamed.yaml']);
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe(
      'canary: j.jsonl is the journal of plan "maestro-conductor-vnext-rc", and --plan renamed.yaml is plan "renamed-plan"; pass the plan file it ran with, unchanged: --plan <file>',
    );
  });

  it('resuming it (run --journal) without --plan says the same, and the way out', async () => {
    const r = await canary(['run', '--headless', '--until', 'canary-5', '--journal', 'j.jsonl']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('j.jsonl was written with another plan file than the default plan');
    expect(r.err).toContain('--plan <file> (or --journal <other file>, or --no-journal to run without one)');
  });

  it('report and replay warn in the same words (report goes on)', async () => {
    const report = await canary(['report', 'j.jsonl']);
    expect(report.code).toBe(0);
    expect(report.err).toMatch(/^canary: warning: j\.jsonl was written with another plan file than the default plan/);
    expect(report.out).toContain('# Rollout retrospective');
    const replay = await canary(['replay', 'j.jsonl']);
    expect(replay.err).toMatch(/^canary: warning: j\.jsonl was written with another plan file than the default plan.*replaying with it anyway$/m);
  });
});

describe('--expect-head as README writes it', () => {
  const journal = join(tmp, 'h.jsonl');
  let seq = 0;
  let hash = '';
  beforeAll(async () => {
    const r = await canary(['run', '--headless', '--scenario', 'healthy', '--until', 'canary-1', '--journal', journal]);
    expect(r.code, r.err).toBe(0);
    const v = await canary(['audit', 'verify', journal]);
    const m = /^head: seq (\d+) ([0-9a-f]{64})$/m.exec(v.out)!;
    seq = Number(m[1]);
    hash = m[2]!;
  }, 120_000);

  it("README's --expect-head examples have a form the option takes", () => {
    const examples = [...README.matchAll(/--expect-head\s+(\S+)/g)].map((m) => m[1]!.replace(/`[^`]*$/, '')).filter((e) => !e.includes('<'));
    expect(examples.length).toBeGreaterThan(0);
    for (const e of examples) expect(checkHead(e), e).toBeNull();
    for (const c of COMMANDS.flatMap((c) => [c, ...(c.subcommands ?? [])]))
      for (const e of c.examples)
        for (const m of e.cmd.matchAll(/--expect-head\s+(\S+)/g)) expect(checkHead(m[1]!), e.cmd).toBeNull();
  });

  it.each([
    ['<seq>:<first 16>', () => `${seq}:${hash.slice(0, MIN_HEAD_PREFIX)}`],
    ['<first 20>', () => hash.slice(0, 20)],
    ['<seq>:<all 64>', () => `${seq}:${hash}`],
  ])('%s: the head is the recorded head, exit 0', async (_what, head) => {
    const r = await canary(['audit', 'verify', journal, '--expect-head', head()]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`truncation: none - the head is the recorded head (seq ${seq})`);
  });

  it('a prefix of a head cut off the end: TRUNCATED, exit 1', async () => {
    const lines = readFileSync(journal, 'utf8').split('\n').filter(Boolean);
    const cut = join(tmp, 'cut.jsonl');
    writeFileSync(cut, `${lines.slice(0, -3).join('\n')}\n`);
    const r = await canary(['audit', 'verify', cut, '--expect-head', `${seq}:${hash.slice(0, MIN_HEAD_PREFIX)}`]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`TRUNCATED or rewritten: the recorded head seq ${seq} ${hash.slice(0, MIN_HEAD_PREFIX)}... is not in the chain, which ends at seq ${seq - 3} (3 entries after seq ${seq - 3} are gone)`);
  });

  it('with --rollout (the journal in the cluster, anchored by its status): refused, not ignored', async () => {
    const r = await canary(['audit', 'verify', '--rollout', 'maestro-conductor-rc', '--expect-head', `${seq}:${hash}`]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--expect-head is for a journal file; the journal in the cluster is checked against its CanaryRollout's status head");
  });

  it('a prefix under 16 digits (or with "…" pasted after it): exit 2, how many digits it takes', async () => {
    for (const head of [`${seq}:${hash.slice(0, 12)}`, `${seq}:${hash.slice(0, 6)}…`]) {
      const r = await canary(['audit', 'verify', journal, '--expect-head', head]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`the hash has (12|6) hex digits; give at least ${MIN_HEAD_PREFIX} of the 64 that \`canary audit verify\` prints after "head:"`));
      expect(r.err).not.toMatch(STACK);
    }
  });
});

describe('completion the ways canary is run', () => {
  let file = '';
  beforeAll(async () => {
    file = join(tmp, 'canary.bash');
    writeFileSync(file, (await canary(['completion', 'bash'])).out);
  });
  const bash = (script: string) => {
    const r = spawnSync('bash', ['--norc', '-c', script], { cwd: tmp, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    return r.stdout;
  };
  const complete = (...words: string[]) =>
    bash(`source ${JSON.stringify(file)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _canary_complete; printf '%s\\n' "\${COMPREPLY[@]}"`)
      .split('\n')
      .filter(Boolean)
      .sort();

  it('npx canary and node dist/canary.mjs complete as canary does', () => {
    expect(complete('canary', 'st')).toEqual(['start', 'status']);
    expect(complete('npx', 'canary', 'st')).toEqual(['start', 'status']);
    expect(complete('npx', 'canary', 'audit', 'verify', '-o', 'j')).toEqual(['json']);
    expect(complete('node', 'dist/canary.mjs', 'audit', '')).toEqual(['verify']);
    expect(complete('node', '/opt/canary/dist/canary.mjs', 'start', '--scenario', 'c')).toEqual(['crashloop']);
    expect(complete('node', 'dist/canary.mjs', '--ver')).toEqual(['--version']);
  });

  it('anything else npx or node runs is left to the shell (file names)', () => {
    expect(complete('node', 'server.js', '--x')).toEqual([]);
    expect(complete('npx', 'prettier', '--wr')).toEqual([]);
    expect(complete('npx', 'cana')).toEqual([]);
  });

  it('registers canary, and npx and node only where nothing else completes them', () => {
    expect(bash(`source ${JSON.stringify(file)}; complete -p canary npx node`).trim().split('\n')).toEqual([
      'complete -o default -F _canary_complete canary',
      'complete -o default -F _canary_complete npx',
      'complete -o default -F _canary_complete node',
    ]);
    expect(bash(`_mine() { :; }; complete -F _mine node; source ${JSON.stringify(file)}; complete -p node`).trim()).toBe('complete -F _mine node');
  });

  it('the zsh script completes npx and node too, without taking them from another completion', async () => {
    const zsh = (await canary(['completion', 'zsh'])).out;
    expect(zsh).toContain('compdef _canary canary');
    expect(zsh).toMatch(/for _canary_launcher in npx node; do\n {2}\(\( \$\{\+_comps\[\$_canary_launcher\]\} \)\) \|\| compdef _canary "\$_canary_launcher"/);
  });
});

describe('README commands name commands and options that exist', () => {
  /** Every `canary ...` / `node dist/canary.mjs ...` / `npx canary ...` README writes in a shell block
   * or in inline code, cut at a comment, pipe, redirection or the end of the code span. */
  function readmeCommands(): string[] {
    const out: string[] = [];
    const launcher = /(?:^|[\s(=;])(?:canary|node dist\/canary\.mjs|npx canary)\s+([^#`|>;&)]*)/g;
    for (const block of README.matchAll(/```sh\n([\s\S]*?)```/g))
      for (const line of block[1]!.split('\n')) for (const m of line.matchAll(launcher)) out.push(m[1]!.trim());
    for (const span of README.matchAll(/`([^`\n]+)`/g)) for (const m of span[1]!.matchAll(launcher)) out.push(m[1]!.trim());
    return out;
  }

  it('each command path and --option is in the registry', () => {
    const byName = new Map(COMMANDS.map((c) => [c.name, c]));
    const problems: string[] = [];
    let checked = 0;
    for (const cmd of readmeCommands()) {
      const words = cmd.split(/\s+/).map((w) => w.replace(/^\[|\]$/g, '')).filter(Boolean);
      let spec: CommandSpec<any> | undefined;
      let i = 0;
      if (words[0] !== undefined && byName.has(words[0])) {
        spec = byName.get(words[0]);
        i = 1;
        while (spec?.subcommands && words[i] !== undefined && spec.subcommands.some((s) => s.name === words[i])) {
          spec = spec.subcommands.find((s) => s.name === words[i]);
          i++;
        }
      } else if (words[0]?.startsWith('-')) spec = byName.get(DEFAULT_COMMAND);
      if (!spec) continue; // prose: "canary replays it", `canary: ...` comments
      checked++;
      const options = spec.options as OptionTable;
      for (const w of words.slice(i)) {
        if (w === '...' || w.includes('<')) continue;
        if (w.startsWith('--')) {
          const name = w.slice(2).split('=')[0]!;
          const known = name in options || ['help', 'version', 'no-color'].includes(name) || (name.startsWith('no-') && options[name.slice(3)]?.type === 'boolean');
          if (!known) problems.push(`${cmd}: ${w} is not an option of canary ${spec.name}`);
        } else if (/^-[a-zA-Z]$/.test(w)) {
          if (!Object.values(options).some((o) => o.short === w.slice(1)) && w !== '-h') problems.push(`${cmd}: ${w} is not an option of canary ${spec.name}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(30);
    expect(problems).toEqual([]);
  });
});
