// Plan messages found by the adversarial review (issue 18's follow-up): each mistake is one error
// that says what is wrong and where, in the words of the rule that was broken.
//   - a plan nested thousands of levels deep: "nests too deep", where, and the limit (not the
//     parser's "maximum call stack size exceeded");
//   - text that is no duration: one error, not one per check built on durations;
//   - a first weight of 0: the first step must be more than 0 (not "0 follows 0");
//   - thresholds no SLI of their unit can cross (availability >= 101, a negative latency).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_PLAN_DEPTH, formatPlanError, loadPlanText } from '../src/plan/loader.js';
import type { LoadResult, PlanError } from '../src/plan/loader.js';

const REF = readFileSync(join(import.meta.dirname, '..', 'config', 'maestro-conductor-rc.yaml'), 'utf8');
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
/** 1-based line and column of the first `needle` at or after `from`. */
function posOf(text: string, needle: string, from = 0): { line: number; col: number } {
  const i = text.indexOf(needle, from);
  if (i < 0) throw new Error(`not found: ${needle}`);
  const before = text.slice(0, i).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

describe('a plan nested too deep', () => {
  it('100,000 brackets (the parser overflows its stack): one error at the bracket past the limit, naming the limit', () => {
    const text = `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    const errors = errorsOf(loadPlanText(text, FILE));
    expect(errors.map(formatPlanError)).toEqual([
      `${FILE}:1:${3 + MAX_PLAN_DEPTH}: the plan nests too deep: this list or mapping is ${MAX_PLAN_DEPTH + 1} levels down, and a plan may nest lists and mappings at most ${MAX_PLAN_DEPTH} levels deep (a whole plan needs fewer than 10); is a bracket doubled or never closed?`,
    ]);
    expect(errors[0]!.message).not.toMatch(/call stack/i);
  });

  it('a few hundred levels the parser can build: the same error, before the data is built', () => {
    const text = `a: ${'{b: '.repeat(300)}1${'}'.repeat(300)}\n`;
    const [e, ...rest] = errorsOf(loadPlanText(text, FILE));
    expect(rest).toEqual([]);
    // The top mapping is level 1; `a`'s value is level 2; the 64th `{` is level 65.
    expect(e).toMatchObject({ line: 1, col: 4 + 4 * (MAX_PLAN_DEPTH - 1), path: '' });
    expect(e!.message).toContain(`at most ${MAX_PLAN_DEPTH} levels deep`);
  });

  it('block indentation: the line where the limit is passed', () => {
    let text = '';
    for (let i = 0; i < 80; i++) text += `${'  '.repeat(i)}k${i}:\n`;
    text += `${'  '.repeat(80)}x: 1\n`;
    const [e, ...rest] = errorsOf(loadPlanText(text, FILE));
    expect(rest).toEqual([]);
    // k0's mapping is level 1; the mapping that starts with k64 is level 65.
    expect(e).toMatchObject(posOf(text, `k${MAX_PLAN_DEPTH}:`));
    expect(e!.message).toContain('nests too deep');
  });

  it('as deep as the limit is not an error of depth', () => {
    const text = `a: ${'['.repeat(MAX_PLAN_DEPTH - 1)}${']'.repeat(MAX_PLAN_DEPTH - 1)}\n`;
    const errors = errorsOf(loadPlanText(text, FILE));
    expect(errors.some((e) => e.message.includes('nests too deep'))).toBe(false);
    expect(errors.some((e) => e.message.includes('missing key "apiVersion"'))).toBe(true);
  });
});

describe('one mistake, one error', () => {
  it.each([
    ['noDataAfter: 10m ', 'noDataAfter: ten minutes ', 'analysis.noDataAfter', 'ten minutes'],
    ['timeout: 5s\n', 'timeout: soon\n', 'sources.prometheus.timeout', 'soon'],
  ])('%s written as text that is no duration: one error at the value', (find, replace, path, value) => {
    const text = edit(find, replace);
    const errors = errorsOf(loadPlanText(text, FILE));
    expect(errors.map(formatPlanError)).toEqual([
      `${FILE}:${posOf(text, value).line}:${posOf(text, value).col}: ${path}: expected a duration: a number followed by ms, s, m, h, d or w (e.g. "24h", "4h", "7d"), at most 3650d, got string "${value}"`,
    ]);
  });

  it('a duration of 0 where one must be longer still says so', () => {
    const text = edit('noDataAfter: 10m ', 'noDataAfter: 0m ');
    const errors = errorsOf(loadPlanText(text, FILE));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain('expected a duration longer than 0');
  });
});

describe('the first weight', () => {
  it('0: the first step must be more than 0, at its line', () => {
    const text = edit('{ weight: 1, bake: { min: 24h, max: 48h } }', '{ weight: 0, bake: { min: 24h, max: 48h } }');
    const errors = errorsOf(loadPlanText(text, FILE));
    expect(errors).toHaveLength(1);
    const at = posOf(text, '0, bake: { min: 24h, max: 48h }');
    expect(errors[0]).toMatchObject({ ...at, path: 'phases[0].steps[0].weight' });
    expect(errors[0]!.message).toMatch(/^the first step's weight must be more than 0 \(it is 0\)/);
    expect(errors[0]!.message).not.toContain('follows');
  });

  it('a later weight that does not increase still says "weights must increase"', () => {
    const text = edit('{ weight: 75,', '{ weight: 50,');
    expect(errorsOf(loadPlanText(text, FILE)).map((e) => e.message)).toEqual(['weights must increase: 50 follows 50']);
  });
});

describe('thresholds impossible for the SLI unit', () => {
  it.each([
    [
      'a success criterion above 100%',
      '{ sli: availability, op: ">=", value: 99.9, seed: "99.9%" }',
      '{ sli: availability, op: ">=", value: 101, seed: "99.9%" }',
      '101',
      'successCriteria[0].value',
      'SLI "availability" is a percentage (0 to 100): availability >= 101 can never pass, so no gate would ever open',
    ],
    [
      'a criterion below 0% that always passes',
      '{ sli: error_rate, op: "<", value: 0.1, seed: "<0.1%" }',
      '{ sli: error_rate, op: ">", value: -1, seed: "<0.1%" }',
      '-1',
      'successCriteria[2].value',
      'SLI "error_rate" is a percentage (0 to 100): error_rate > -1 always passes, so it judges nothing',
    ],
    [
      'a safety threshold on a negative count',
      '{ sli: memory_leaks, op: "<=", value: 0, seed: "memory_leaks: 0" }',
      '{ sli: memory_leaks, op: "<=", value: -1, seed: "memory_leaks: 0" }',
      '-1',
      'safetyThresholds[3].value',
      'SLI "memory_leaks" is a count (never negative): memory_leaks <= -1 can never pass, so no gate would ever open',
    ],
    [
      'a rollback rule on a negative latency that trips at once',
      'sli: latency_p95, op: ">=", value: 1000,',
      'sli: latency_p95, op: ">=", value: -5,',
      '-5',
      'rollback.automatic[1].value',
      'SLI "latency_p95" is a latency in ms (never negative): latency_p95 >= -5 is always true, so this rule would roll back at once',
    ],
    [
      'a rollback rule above 100% that never trips',
      'sli: error_rate, op: ">=", value: 1.0,',
      'sli: error_rate, op: ">=", value: 150,',
      '150',
      'rollback.automatic[0].value',
      'SLI "error_rate" is a percentage (0 to 100): error_rate >= 150 can never be true, so this rule would never roll back',
    ],
    [
      "a relative rule's negative floor",
      'baselineFactor: 3, minimum: 100,',
      'baselineFactor: 3, minimum: -100,',
      '-100',
      'rollback.circuitBreakers[2].minimum',
      'SLI "latency_p95" is a latency in ms (never negative): minimum -100 is a value it can never have',
    ],
  ])('%s: an error at file:line:col of the value', (_what, find, replace, value, path, message) => {
    const text = edit(find, replace);
    const errors = errorsOf(loadPlanText(text, FILE));
    const at = posOf(text, `${value}`, text.indexOf(replace));
    expect(errors.map(formatPlanError)).toEqual([`${FILE}:${at.line}:${at.col}: ${path}: ${message}`]);
  });

  it("the reference plan's own thresholds (0 counts, availability <= 0 for 5m) are all possible", () => {
    expect(loadPlanText(REF, FILE).ok).toBe(true);
  });
});
