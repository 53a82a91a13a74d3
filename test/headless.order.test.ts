// `canary run --headless` prints each effect before what came of it. A report with no report
// directory (--no-journal) comes back at once, in the same dispatch as the event that asked for
// it: its "NOT produced" line was printed before the effect's own line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'canary-headless-order-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('canary run --headless: output order', () => {
  it('a report effect is printed before its result, in lines and in --json', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: join(tmp, 'state') };
    const args = [join(root, 'dist', 'canary.mjs'), 'run', '--headless', '--no-journal', '--scenario', 'healthy', '--until', 'canary-5'];
    const json = spawnSync(process.execPath, [...args, '--json'], { cwd: tmp, env, encoding: 'utf8', timeout: 60_000 });
    expect(json.status, json.stderr).toBe(0);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; text?: string; effect?: { type: string; name?: string; id: number } });
    // Every result names a report whose effect came before it (and was not answered yet).
    const asked: string[] = [];
    let results = 0;
    for (const l of lines) {
      if (l.type === 'effect' && l.effect?.type === 'produce-report') asked.push(l.effect.name!);
      const m = l.type === 'event' ? / report (\S+) \(.*\) for .* (NOT produced|produced|written)/.exec(l.text ?? '') : null;
      if (m) {
        results++;
        const i = asked.indexOf(m[1]!);
        expect(i, `the result "${l.text}" comes after its effect; the lines so far:\n${lines.slice(0, lines.indexOf(l) + 1).map((x) => JSON.stringify(x)).join('\n')}`).toBeGreaterThanOrEqual(0);
        asked.splice(i, 1);
      }
    }
    expect(results).toBeGreaterThan(0);
    // The same order in the text lines.
    const text = spawnSync(process.execPath, args, { cwd: tmp, env, encoding: 'utf8', timeout: 60_000 });
    expect(text.status, text.stderr).toBe(0);
    const out = text.stdout.split('\n');
    const effect = out.findIndex((l) => /effect #\d+: produce daily report eng-daily/.test(l));
    const result = out.findIndex((l) => /daily report eng-daily .* NOT produced/.test(l));
    expect(effect).toBeGreaterThanOrEqual(0);
    expect(result).toBe(effect + 1);
  });
});
