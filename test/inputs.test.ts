// Bounded inputs (issue 15, items 6, 9, 10): everything `run` would refuse, crash or hang on,
// `validate` refuses first with file:line:col; big plans are refused before parsing and checked in
// linear time; PromQL that can never mean what the plan thinks is named; `audit verify` turns a bad
// --expect-head or a directory into a clear error of its own.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { MAX_PLAN_BYTES, formatPlanError, loadPlanFile, loadPlanText } from '../src/plan/loader.js';
import type { LoadResult, PlanError } from '../src/plan/loader.js';
import { runValidate } from '../src/plan/commands.js';
import { JournalError, verifyJournal } from '../src/journal/journal.js';
import { parseDuration } from '../src/plan/schema.js';

const REF_FILE = join(import.meta.dirname, '..', 'config', 'maestro-conductor-rc.yaml');
const REF = readFileSync(REF_FILE, 'utf8');
const FILE = 'plan.yaml';

function edit(find: string, replace: string): string {
  const i = REF.indexOf(find);
  if (i < 0 || REF.indexOf(find, i + 1) >= 0) throw new Error(`not exactly once in the reference plan: ${find}`);
  return REF.slice(0, i) + replace + REF.slice(i + find.length);
}
function errorsOf(r: LoadResult): PlanError[] {
  if (r.ok) throw new Error('expected the plan to be rejected');
  return r.errors;
}
function errorFor(text: string, fragment: string): PlanError {
  const errors = errorsOf(loadPlanText(text, FILE));
  const hit = errors.find((e) => e.message.includes(fragment));
  if (!hit) throw new Error(`no error contains ${JSON.stringify(fragment)}; got:\n${errors.map(formatPlanError).join('\n')}`);
  return hit;
}
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

describe('validate refuses what run would refuse, crash or hang on', () => {
  it.each([
    ['a zero analysis interval', 'interval: 1m        #', 'interval: 0s        #', 'analysis.interval', 'longer than 0'],
    ['a zero analysis window', 'window: 5m ', 'window: 0m ', 'analysis.window', 'longer than 0'],
    ['a zero Prometheus timeout', 'timeout: 5s\n', 'timeout: 0ms\n', 'sources.prometheus.timeout', 'longer than 0'],
    ['a duration that overflows to Infinity', 'noDataAfter: 10m ', `noDataAfter: ${'9'.repeat(400)}w `, 'analysis.noDataAfter', 'at most 3650d'],
    ['a bake longer than ten years', 'bake: { min: 24h, max: 48h }', 'bake: { min: 24h, max: 5000d }', 'phases[0].steps[0].bake.max', 'at most 3650d'],
    ['a load test longer than a timer can wait', 'duration: 30s\n', 'duration: 30d\n', 'loadTests[2].duration', 'at most 24d'],
  ])('%s: file:line:col, the key, what to write', (_what, find, replace, path, fragment) => {
    const text = edit(find, replace);
    const e = errorFor(text, fragment);
    expect(e.path).toBe(path);
    expect(e.line).toBe(lineOf(text, replace.trim().slice(0, 12)));
    expect(formatPlanError(e)).toMatch(new RegExp(`^${FILE}:\\d+:\\d+: ${path.replace(/[[\].]/g, '\\$&')}: `));
  });

  it('parseDuration never returns Infinity or NaN', () => {
    expect(parseDuration(`${'9'.repeat(400)}s`)).toBeUndefined();
    expect(parseDuration('3651d')).toBeUndefined();
    expect(parseDuration('3650d')).toBe(3650 * 86_400_000);
  });

  it('a rule that mixes two kinds is told what its kind allows', () => {
    const text = edit('{ id: consecutive_failures, title: Consecutive failed analyses, consecutive: 10,', '{ id: consecutive_failures, title: Consecutive failed analyses, consecutive: 10, sli: error_rate,');
    const e = errorFor(text, 'unknown key "sli"');
    expect(e.path).toBe('rollback.circuitBreakers[0].sli');
    expect(e.message).toContain('expected one of: kind, id, title, incident, seed, consecutive');
  });
});

describe('big plans', () => {
  it('a plan over the stated size is refused before it is parsed, with the size and the limit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canary-big-'));
    try {
      const file = join(dir, 'big.yaml');
      writeFileSync(file, `${REF}\n${'# padding\n'.repeat(Math.ceil(MAX_PLAN_BYTES / 10) + 10)}`);
      const r = loadPlanFile(file);
      const [e] = errorsOf(r);
      expect(e!.message).toMatch(/^the plan is 1\.0 MB; canary reads plans of at most 1 MB/);
      const err: string[] = [];
      const sink = new Writable({ write: (c, _e, cb) => (err.push(String(c)), cb()) });
      expect(runValidate(file, sink, sink)).toBe(1);
      expect(err.join('')).toContain('at most 1 MB');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('20,000 unknown keys: the first 50 named at their line, the rest counted in one line (checked in linear time: see bench)', () => {
    let extra = '';
    for (let i = 0; i < 20_000; i++) extra += `unknown_key_${i}: ${i}\n`;
    const text = REF + extra;
    const errors = errorsOf(loadPlanText(text, FILE));
    expect(errors).toHaveLength(51);
    expect(errors[0]).toMatchObject({ path: 'unknown_key_0', line: lineOf(text, 'unknown_key_0:'), col: 1 });
    expect(errors[50]!.message).toBe('and 19950 more unknown keys in the plan');
  });

  it('duplicate keys are still found, in every mapping, at the second one', () => {
    const text = edit('  window: 5m ', '  window: 5m\n  window: 6m ');
    const e = errorFor(text, 'duplicate key "window"');
    expect(e.line).toBe(lineOf(text, 'window: 6m'));
  });
});

describe('PromQL that can never mean what the plan thinks', () => {
  const q = 'query: sum(rate(http_requests_total{track="$track"}[5m]))';
  it.each([
    ['${TENANT}', 'query: sum(rate(http_requests_total{track="$track",tenant="${TENANT}"}[5m]))', '${TENANT} is never substituted'],
    ['{{service}}', 'query: sum(rate(http_requests_total{track="$track",service="{{service}}"}[5m]))', '{{service}} is never substituted'],
    ['$region', 'query: sum(rate(http_requests_total{track="$track",region="$region"}[5m]))', '$region is never substituted'],
    ['no $track', 'query: sum(rate(http_requests_total[5m]))', 'the query has no $track, so canary and baseline would read the same series'],
  ])('%s is named at the SLI query', (_what, replace, fragment) => {
    const text = edit(q, replace);
    const e = errorFor(text, fragment);
    expect(e.path).toBe('slis[4].query');
    expect(e.line).toBe(lineOf(text, replace));
  });
});

describe('audit verify: a bad argument is a clear error of the library, never a bare fs error', () => {
  it('a directory, a missing file, a malformed --expect-head', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canary-audit-'));
    try {
      expect(() => verifyJournal(dir)).toThrow(JournalError);
      expect(() => verifyJournal(dir)).toThrow(`cannot read journal ${dir}: it is a directory, not a journal file`);
      expect(() => verifyJournal(join(dir, 'nope.jsonl'))).toThrow('no such file');
      writeFileSync(join(dir, 'j.jsonl'), '');
      expect(() => verifyJournal(join(dir, 'j.jsonl'), { expectedHead: '12:nothex' })).toThrow(JournalError);
      expect(() => verifyJournal(join(dir, 'j.jsonl'), { expectedHead: '12:nothex' })).toThrow('--expect-head: expected "<hash>" or "<seq>:<hash>"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
