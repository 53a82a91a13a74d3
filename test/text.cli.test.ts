// Terminal escapes from people and plans never reach a terminal raw through the text commands
// (review: a war-room person's incident summary `\e]0;TITLE\a\e[2J\e[41m` was printed as is by
// `canary status`, copied into `canary report`'s Markdown; a plan's metadata.owner with escapes was
// printed by `validate`'s summary and echoed in an unknown-key error). The built CLI, real files.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Plan } from '../src/plan/schema.js';
import { JournalWriter } from '../src/journal/journal.js';
import { initialState, reduce } from '../src/engine/reduce.js';
import type { EngineEvent } from '../src/engine/types.js';
import { reportError } from '../src/cli.js';
import { UserError } from '../src/commands/errors.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'canary.mjs');
const PLAN_PATH = join(root, 'config', 'maestro-conductor-rc.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'canary-text-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function canary(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: tmp, env: { ...process.env, XDG_STATE_HOME: join(tmp, 'state'), CANARY_PLAN_CACHE: 'off' }, timeout: 60_000, maxBuffer: 16 << 20 }, (error, out, err) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out, err }),
    );
  });
}

/** Control bytes a terminal obeys: C0 but newline and tab, DEL, and the C1 range. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const HOSTILE = 'checkout \u001b]0;PWNED\u0007\u001b[2J\u001b[41mRED\u001b[0m down';
const SHOWN = 'checkout ␛]0;PWNED␇␛[2J␛[41mRED␛[0m down';

describe('a journal with a hostile incident summary', () => {
  const journal = join(tmp, 'hostile.jsonl');
  beforeAll(() => {
    const planText = readFileSync(PLAN_PATH, 'utf8');
    const plan = Plan.parse(parse(planText));
    const start = Date.parse('2026-11-10T15:00:00Z');
    const w = JournalWriter.openSync(journal, { plan, planText, start });
    let state = initialState(plan, start);
    const events: EngineEvent[] = [
      { type: 'command', at: start + 60_000, actor: { id: 'mallory', name: 'Mallory \u001b[31mM', roles: ['sre'] }, command: { kind: 'declare-incident', severity: 'P2', summary: HOSTILE } },
    ];
    for (const e of events) {
      const r = reduce(plan, state, e);
      state = r.state;
      w.append(e, state, r.effects);
    }
    w.close();
  });

  it('canary status prints the summary with its escapes shown (␛), none raw', async () => {
    const r = await canary(['status', '--journal', journal, '--plan', PLAN_PATH]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(SHOWN);
    expect(r.out).not.toMatch(RAW_CONTROL);
    // machine output keeps the exact text, escaped the JSON way
    const j = await canary(['status', '--journal', journal, '--plan', PLAN_PATH, '-o', 'json']);
    expect((JSON.parse(j.out) as { incidents: { summary: string }[] }).incidents[0]!.summary).toBe(HOSTILE);
  });

  it('canary report writes Markdown with the escapes shown, none raw', async () => {
    const r = await canary(['report', journal, '--plan', PLAN_PATH]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('␛]0;PWNED␇');
    expect(r.out).not.toMatch(RAW_CONTROL);
  });
});

describe("a tampered journal whose header names a plan with escapes", () => {
  // The header is the file's text: an edit breaks its hash, which audit verify reports, but the
  // plan name it carries is still printed (by audit verify, and in the other-plan warning of
  // report and replay).
  const journal = join(tmp, 'tampered-header.jsonl');
  beforeAll(() => {
    const planText = readFileSync(PLAN_PATH, 'utf8');
    const plan = Plan.parse(parse(planText));
    const w = JournalWriter.openSync(journal, { plan, planText, start: Date.parse('2026-11-10T15:00:00Z') });
    w.close();
    const lines = readFileSync(journal, 'utf8').split('\n');
    const head = JSON.parse(lines[0]!) as { event: { plan: string } };
    head.event.plan = HOSTILE;
    lines[0] = JSON.stringify(head);
    writeFileSync(journal, lines.join('\n'));
  });

  it('audit verify shows the name with its escapes (␛), none raw, and says the header was edited', async () => {
    const r = await canary(['audit', 'verify', journal]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`plan ${SHOWN}`);
    expect(r.out).toMatch(/EDITED at line 1, seq 0/);
    expect(r.out + r.err).not.toMatch(RAW_CONTROL);
  });

  it("report's other-plan warning shows it (␛), none raw", async () => {
    const r = await canary(['report', journal, '--plan', PLAN_PATH]);
    expect(r.err).toContain(`is the journal of plan "${SHOWN}"`);
    expect(r.out + r.err).not.toMatch(RAW_CONTROL);
  });
});

describe('a plan with escapes in its text', () => {
  it("validate's summary shows metadata.owner's escapes (␛), none raw", async () => {
    const file = join(tmp, 'owner.yaml');
    writeFileSync(file, readFileSync(PLAN_PATH, 'utf8').replace(/^  owner: .*$/m, '  owner: "SRE \\e]0;PWNED\\a\\e[2J\\e[31mTeam"'));
    const r = await canary(['validate', file]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('SRE ␛]0;PWNE');
    expect(r.out + r.err).not.toMatch(RAW_CONTROL);
  });

  it('an unknown key with escapes is echoed shown (␛) in the error, none raw', async () => {
    const file = join(tmp, 'key.yaml');
    writeFileSync(file, readFileSync(PLAN_PATH, 'utf8').replace(/^metadata:$/m, 'metadata:\n  "own\\e[2Jer": x'));
    const r = await canary(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('own␛[2Jer');
    expect(r.out + r.err).not.toMatch(RAW_CONTROL);
  });

  it('run --headless prints a phase title with escapes shown (␛), none raw', async () => {
    const file = join(tmp, 'title.yaml');
    const text = readFileSync(PLAN_PATH, 'utf8');
    const first = /^  - id: canary-1\n    title: (.*)$/m.exec(text);
    expect(first).not.toBeNull();
    writeFileSync(file, text.replace(first![0], first![0].replace(`title: ${first![1]}`, 'title: "Canary \\e[41m1%"')));
    const r = await canary(['run', '--headless', '--plan', file, '--scenario', 'healthy', '--until', 'canary-1', '--pods-per-region', '1', '--no-journal', '--timeout', '50s']);
    expect(r.code, r.err + r.out.slice(-500)).toBe(0);
    expect(r.out).toContain('Canary ␛[41m1%');
    expect(r.out).not.toMatch(RAW_CONTROL);
  }, 60_000);

  it("any error message (a server's answer, a file name) is printed shown, newlines kept", () => {
    let out = '';
    reportError(new UserError('the server said: \u001b[2Jgone\nline two'), { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream);
    expect(out).toBe('canary: the server said: ␛[2Jgone\nline two\n');
  });
});

describe("a CanaryRollout's status from the cluster", () => {
  it('canary status <rollout> prints an incident summary written into the status with its escapes shown, none raw', async () => {
    const { statusLines } = await import('../src/cluster/commands.js');
    const text = statusLines({
      metadata: { name: 'maestro-conductor-rc', namespace: 'maestro-conductor-canary' },
      status: { state: 'Running', phase: 'canary-5', step: '1/1', incidents: [{ id: 'INC-1', severity: 'P2', summary: HOSTILE, openedAt: '2026-11-10T15:00:00Z', ackedBy: null, nextPage: null }] },
    });
    expect(text).toContain(`INC-1 P2 ${SHOWN}`);
    expect(text).not.toMatch(RAW_CONTROL);
  });
});
