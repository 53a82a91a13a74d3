// Loads a rollout plan from YAML and reports every problem at the exact line and column of the
// key or value it concerns, so `canary validate` reads like a compiler: file:line:col: path: message.
//
// Three layers, each only when the previous one passed:
//   1. YAML syntax (bad indentation, unclosed quotes, tabs, duplicate keys) from `yaml`'s parser;
//   2. shapes and types from the zod schema `Plan` (every issue is mapped back to its YAML node);
//   3. cross-field checks from `crossCheck` (references between sections, orderings).
// Nothing here throws for bad input: every failure comes back as a `PlanError`.
import { LineCounter, Parser, isAlias, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { CST, Document, Node as YamlNode, Pair } from 'yaml';
import type { core } from 'zod';
import { Plan, crossCheck, ruleSchemaFor } from './schema.js';
import { simulationProblems } from './simulate.js';

export { formatPlanError, MAX_PLAN_BYTES, type LoadOptions, type LoadResult, type PlanError } from './read.js';
import { cacheKey, cachedPlanFor, MAX_PLAN_BYTES, readPlanText, tooBig, type LoadOptions, type LoadResult, type PlanError } from './read.js';
import { cachePlan } from './cache.js';
import { runbookWarnings } from './runbook.js';
import { trafficSliProblems } from './traffic-sli.js';

type PathKey = string | number;

/** ['phases', 1, 'steps', 0, 'weight'] -> "phases[1].steps[0].weight". */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else {
      const s = String(k);
      if (/^[A-Za-z_][\w-]*$/.test(s)) out += out ? `.${s}` : s;
      else out += `[${JSON.stringify(s)}]`;
    }
  }
  return out;
}

/** Reads and loads a plan file (synchronously: `canary validate`, the tests). A file that cannot be
 * read is one error with line 0. The commands that run a plan use ./open.ts, which loads this
 * module only when the plan is not in the cache. */
export function loadPlanFile(path: string, opts: LoadOptions = {}): LoadResult {
  const read = readPlanText(path);
  if (!read.ok) return read;
  // Validated before from this very text (and for the same place to run) by this very build: skip
  // YAML and zod (see cache.ts).
  const cached = cachedPlanFor(read.text, opts);
  if (cached) return { ok: true, plan: cached, file: path };
  return validatePlanText(read.text, path, opts);
}

/** Validates plan text read from `file` and keeps the plan in the cache when it is valid. A plan
 * with warnings is checked again every time, so `validate` says them every time. */
export function validatePlanText(text: string, file: string, opts: LoadOptions = {}): LoadResult {
  const result = loadPlanText(text, file, opts);
  if (result.ok && !result.warnings) cachePlan(cacheKey(text, opts), result.plan, opts.cacheDir ?? null);
  return result;
}

/** Parses, validates and cross-checks plan text; `file` is only used in the errors. */
export function loadPlanText(text: string, file: string, opts: LoadOptions = {}): LoadResult {
  if (text.length > MAX_PLAN_BYTES) return tooBig(file, Buffer.byteLength(text));
  try {
    return loadUnsafe(text, file, opts);
  } catch (e) {
    // A bug of ours or of a library must still come back as an error, never as a crash.
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, errors: [{ file, line: 1, col: 1, path: '', message: `internal error while loading the plan: ${message}` }] };
  }
}

function loadUnsafe(text: string, file: string, opts: LoadOptions): LoadResult {
  const lineCounter = new LineCounter();
  // Duplicate keys are found below with one Set per mapping: the parser's own check (uniqueKeys)
  // compares every key with every earlier one, quadratic in a mapping's size.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, keepSourceTokens: false });
  const at = (offset: number): { line: number; col: number } => {
    const p = lineCounter.linePos(Math.max(0, Math.min(offset, text.length)));
    return { line: Math.max(1, p.line), col: Math.max(1, p.col) };
  };

  // 1. YAML syntax. Nesting first: the parser builds nested lists and mappings by recursion, so
  // thousands of `[` overflow its stack (an error it reports as "Maximum call stack size
  // exceeded"); and below that, turning the YAML into data and the schema recurse too.
  const exhausted = doc.errors.find((e) => e.code === 'RESOURCE_EXHAUSTION');
  const deep = exhausted ? tooDeepInText(text) ?? { offset: exhausted.pos[0], depth: undefined } : doc.errors.length === 0 ? tooDeepInDoc(doc.contents) : null;
  if (deep) return { ok: false, errors: [{ file, ...at(deep.offset), path: '', message: tooDeepMessage(deep.depth) }] };
  if (doc.errors.length === 0) {
    const dup = duplicateKeys(doc.contents);
    if (dup.length > 0)
      return { ok: false, errors: sortErrors(dup.map((d) => ({ file, ...at(d.offset), path: '', message: `duplicate key "${d.key}": keys in a mapping must be unique` }))) };
  }
  if (doc.errors.length > 0) {
    // One error per line: after the first, the parser's further complaints on that line are
    // usually echoes of the same mistake.
    const lines = new Set<number>();
    const errors: PlanError[] = [];
    for (const e of doc.errors) {
      let offset = e.pos[0];
      // The parser notices an unclosed quote where the text runs out; the opening quote is
      // where the author needs to look.
      const quote = e.code === 'MISSING_CHAR' ? /closing (["'])/.exec(e.message)?.[1] : undefined;
      if (quote) {
        const open = text.lastIndexOf(quote, offset);
        if (open >= 0) offset = open;
      }
      const where = at(offset);
      if (lines.has(where.line)) continue;
      lines.add(where.line);
      errors.push({ file, ...where, path: '', message: yamlMessage(e.code, e.message, text.slice(e.pos[0])) });
    }
    return { ok: false, errors: sortErrors(errors) };
  }
  const top = doc.contents;
  if (top === null || (isScalar(top) && (top.value === null || top.value === undefined))) {
    return {
      ok: false,
      errors: [{ file, line: 1, col: 1, path: '', message: `the file is empty; expected a rollout plan: a mapping with ${topKeysText()}` }],
    };
  }
  if (!isMap(top)) {
    const found = isSeq(top) ? 'a list' : isScalar(top) ? `${describeValue(top.value)}` : 'not a mapping';
    return {
      ok: false,
      errors: [{ file, ...at(top.range?.[0] ?? 0), path: '', message: `not a rollout plan: the top level is ${found}; expected a mapping with ${topKeysText()}` }],
    };
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    // e.g. an alias bomb ("excessive alias count") or a bad merge key.
    const message = e instanceof Error ? lowerFirst(e.message) : String(e);
    return { ok: false, errors: [{ file, ...at(top.range?.[0] ?? 0), path: '', message: `cannot turn the YAML into data: ${message}` }] };
  }
  const locator = new Locator(doc, text, at);

  // 2. Shapes and types.
  const parsed = Plan.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    const errors: PlanError[] = [];
    for (const issue of parsed.error.issues) errors.push(...mapIssue(issue, [], data, locator, file));
    return { ok: false, errors: sortErrors(dedupe(errors)) };
  }

  // 3. Cross-field checks.
  const problems = crossCheck(parsed.data);
  if (opts.simulated) problems.push(...simulationProblems(parsed.data));
  if (problems.length > 0) {
    const errors = problems.map((p): PlanError => {
      const { line, col } = locator.valueAt(p.path);
      return { file, line, col, path: formatPath(p.path), message: p.message };
    });
    return { ok: false, errors: sortErrors(dedupe(errors)) };
  }
  const warningProblems = [...runbookWarnings(parsed.data), ...trafficSliProblems(parsed.data).filter((p) => p.level === 'warning')];
  const warnings = warningProblems.map((p): PlanError => {
    const { line, col } = locator.valueAt(p.path);
    return { file, line, col, path: formatPath(p.path), message: p.message };
  });
  return { ok: true, plan: parsed.data, file, ...(warnings.length ? { warnings } : {}) };
}

// ---------------------------------------------------------------------------------------------
// YAML syntax messages

/** A friendlier text for a `yaml` parser error; `rest` is the source from the error onwards. */
function yamlMessage(code: string, message: string, rest: string): string {
  switch (code) {
    case 'DUPLICATE_KEY': {
      const m = /^\s*("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^:#\n,{}]*?)\s*:/.exec(rest);
      const key = m?.[1]?.replace(/^["']|["']$/g, '');
      return key ? `duplicate key "${key}": keys in a mapping must be unique` : 'duplicate key: keys in a mapping must be unique';
    }
    case 'TAB_AS_INDENT':
      return 'tab used for indentation; YAML indents with spaces only';
    case 'BAD_INDENT':
      return `bad indentation: ${lowerFirst(message)}`;
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return `${lowerFirst(message)} (is a line around here indented too far, or missing a "- " or ": "?)`;
    case 'MULTIPLE_DOCS':
      return 'a plan file holds one YAML document; a second one starts here';
    case 'MISSING_CHAR':
      if (/without - indicator/.test(message))
        return 'bad indentation: this line lines up neither with the keys above it nor as a list item ("- ")';
      if (/quote/i.test(message)) {
        const q = /closing (["'])/.exec(message)?.[1] ?? '"';
        return `unclosed quote: the ${q}...${q} text that starts here has no closing ${q}`;
      }
      return lowerFirst(message);
    default:
      return lowerFirst(message);
  }
}

/** Keys that appear twice in one mapping, anywhere in the document (one Set per mapping: linear). */
function duplicateKeys(root: unknown): { key: string; offset: number }[] {
  const out: { key: string; offset: number }[] = [];
  const stack: unknown[] = [root];
  const seenNodes = new Set<unknown>();
  while (stack.length) {
    const n = stack.pop();
    if (n === null || typeof n !== 'object' || seenNodes.has(n)) continue;
    seenNodes.add(n);
    if (isMap(n)) {
      const keys = new Set<string>();
      for (const p of n.items) {
        const k = isScalar(p.key) ? String(p.key.value) : undefined;
        if (k !== undefined) {
          if (keys.has(k)) out.push({ key: k, offset: (p.key as YamlNode).range?.[0] ?? 0 });
          keys.add(k);
        }
        stack.push(p.value);
      }
    } else if (isSeq(n)) for (const item of n.items) stack.push(item);
  }
  return out;
}

/** How deep lists and mappings may nest in a plan. A whole plan needs fewer than 10 levels (the
 * reference plan 7: roster.escalation.P0.steps[0].notify); far more is a mistake (a bracket
 * doubled, a generated file gone wrong) or an attempt to exhaust the parser's stack. */
export const MAX_PLAN_DEPTH = 64;

function tooDeepMessage(depth: number | undefined): string {
  return `the plan nests too deep: ${depth !== undefined ? `this list or mapping is ${depth} levels down, and` : 'lists and mappings nest too deep here for the YAML reader;'} a plan may nest lists and mappings at most ${MAX_PLAN_DEPTH} levels deep (a whole plan needs fewer than 10); is a bracket doubled or never closed?`;
}

/** The first list or mapping nested deeper than MAX_PLAN_DEPTH in a parsed document (iterative: it
 * must not overflow where the parser did not). */
function tooDeepInDoc(root: unknown): { offset: number; depth: number } | null {
  const stack: { n: unknown; depth: number }[] = [{ n: root, depth: 0 }];
  let found: { offset: number; depth: number } | null = null;
  while (stack.length) {
    const { n, depth } = stack.pop()!;
    if (!isMap(n) && !isSeq(n)) continue;
    const d = depth + 1;
    if (d > MAX_PLAN_DEPTH) {
      const offset = (n as YamlNode).range?.[0] ?? 0;
      if (!found || offset < found.offset) found = { offset, depth: d };
      continue;
    }
    if (isMap(n)) for (const p of n.items) stack.push({ n: p.key, depth: d }, { n: p.value, depth: d });
    else for (const item of n.items) stack.push({ n: item, depth: d });
  }
  return found;
}

/** The same from the parser's concrete syntax tree, built without recursion: where the document
 * itself could not be built because it nests too deep. */
function tooDeepInText(text: string): { offset: number; depth: number } | null {
  const stack: { t: CST.Token | null | undefined; depth: number }[] = [];
  for (const t of new Parser().parse(text)) stack.push({ t, depth: 0 });
  while (stack.length) {
    const { t, depth } = stack.pop()!;
    if (!t) continue;
    if (t.type === 'document') {
      stack.push({ t: t.value, depth });
      continue;
    }
    if (t.type !== 'block-map' && t.type !== 'block-seq' && t.type !== 'flow-collection') continue;
    const d = depth + 1;
    if (d > MAX_PLAN_DEPTH) return { offset: t.offset, depth: d };
    // Pushed last to first, so the first item is looked at first (the error is the first in the file).
    for (let i = t.items.length - 1; i >= 0; i--) {
      const item = t.items[i]! as { key?: CST.Token | null; value?: CST.Token };
      stack.push({ t: item.value, depth: d }, { t: item.key, depth: d });
    }
  }
  return null;
}

function lowerFirst(s: string): string {
  return s.length > 1 && /^[A-Z][a-z]/.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s;
}

// ---------------------------------------------------------------------------------------------
// Finding YAML nodes for paths

class Locator {
  constructor(
    private readonly doc: Document,
    private readonly text: string,
    private readonly at: (offset: number) => { line: number; col: number },
  ) {}

  /** The node at `path`, or the nearest existing ancestor (and how much of the path it covers). */
  node(path: readonly PathKey[]): { node: YamlNode; depth: number } {
    let node = this.resolve(this.doc.contents as YamlNode);
    let depth = 0;
    for (const key of path) {
      const next = this.child(node, key);
      if (!next) break;
      node = next.value;
      depth++;
    }
    return { node, depth };
  }

  /** The Pair holding `key` inside the mapping at `parent`, if both exist. */
  pair(parent: readonly PathKey[], key: PathKey): Pair | undefined {
    const { node, depth } = this.node(parent);
    if (depth !== parent.length) return undefined;
    return this.child(node, key)?.pair;
  }

  /** Position of the value at `path` (or of its nearest existing ancestor). */
  valueAt(path: readonly PathKey[]): { line: number; col: number } {
    return this.pos(this.node(path).node);
  }

  /** Position of a key inside a mapping; falls back to the mapping itself. */
  keyAt(parent: readonly PathKey[], key: PathKey): { line: number; col: number } {
    const pair = this.pair(parent, key);
    if (pair && isNodeLike(pair.key)) return this.pos(pair.key);
    return this.valueAt(parent);
  }

  /** The source text of the node at exactly `path`, if it exists. */
  source(path: readonly PathKey[]): string | undefined {
    const { node, depth } = this.node(path);
    if (depth !== path.length || !node.range) return undefined;
    return this.text.slice(node.range[0], node.range[1]);
  }

  pos(node: YamlNode | null | undefined): { line: number; col: number } {
    return this.at(node?.range?.[0] ?? 0);
  }

  private resolve(node: YamlNode): YamlNode {
    let n: unknown = node;
    for (let i = 0; i < 20 && isAlias(n); i++) n = n.resolve(this.doc);
    return (isNodeLike(n) ? n : node) as YamlNode;
  }

  /** Per mapping, its pairs by key (built once): a lookup per problem stays O(1), so a plan with
   * thousands of problems in one mapping is still checked in linear time. */
  private readonly index = new WeakMap<object, Map<string, Pair>>();

  private pairsOf(node: YamlNode & { items: Pair[] }): Map<string, Pair> {
    let m = this.index.get(node);
    if (!m) {
      m = new Map();
      for (const p of node.items) {
        const k = String(isScalar(p.key) ? p.key.value : p.key);
        if (!m.has(k)) m.set(k, p);
      }
      this.index.set(node, m);
    }
    return m;
  }

  private child(node: YamlNode, key: PathKey): { value: YamlNode; pair?: Pair } | undefined {
    if (isMap(node)) {
      const pair = this.pairsOf(node as YamlNode & { items: Pair[] }).get(String(key));
      if (!pair) return undefined;
      // `key:` with no value: point at the key, the closest thing there is.
      const empty = !isNodeLike(pair.value) || (isScalar(pair.value) && pair.value.range?.[0] === pair.value.range?.[1]);
      const value = !empty ? this.resolve(pair.value as YamlNode) : isNodeLike(pair.key) ? (pair.key as YamlNode) : undefined;
      return value ? { value, pair } : undefined;
    }
    if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key];
      if (isPair(item) || !isNodeLike(item)) return undefined;
      return { value: this.resolve(item as YamlNode) };
    }
    return undefined;
  }
}

function isNodeLike(x: unknown): x is YamlNode {
  return typeof x === 'object' && x !== null && 'range' in x;
}

// ---------------------------------------------------------------------------------------------
// zod issues -> PlanErrors

function mapIssue(issue: core.$ZodIssue, prefix: readonly PathKey[], data: unknown, loc: Locator, file: string): PlanError[] {
  const path: PathKey[] = [...prefix, ...(issue.path as PathKey[])];
  const error = (where: { line: number; col: number }, p: readonly PathKey[], message: string): PlanError => ({
    file,
    line: where.line,
    col: where.col,
    path: formatPath(p),
    message,
  });

  switch (issue.code) {
    case 'unrecognized_keys': {
      // A rollback rule allows the keys of its own kind (not every kind's).
      const ruleShape = isRulePath(path) ? defOf(ruleSchemaFor(valueAt(data, path)))?.shape : undefined;
      const allowed = ruleShape ? Object.keys(ruleShape) : allowedKeys(path);
      // A mapping full of unknown keys (a pasted file, a bad merge): name the first ones, count the rest.
      const shown = issue.keys.slice(0, MAX_UNKNOWN_KEYS_SHOWN);
      const rest = issue.keys.length - shown.length;
      const more: PlanError[] = rest > 0 ? [error(loc.keyAt(path, issue.keys[shown.length]!), path, `and ${rest} more unknown key${rest === 1 ? '' : 's'} in ${formatPath(path) || 'the plan'}`)] : [];
      return shown.map((key) => {
        let message = `unknown key "${key}"`;
        if (allowed && allowed.length > 0) {
          message += `; expected one of: ${allowed.join(', ')}`;
          const guess = closest(key, allowed);
          if (guess) message += ` (did you mean "${guess}"?)`;
        } else {
          message += `: not a key of ${formatPath(path) || 'the plan'}`;
        }
        return error(loc.keyAt(path, key), [...path, key], message);
      }).concat(more);
    }
    case 'invalid_union': {
      // A rollback rule: report its problems against the kind its keys say it is (a rule with
      // `consecutive` and `sli` is told "unknown key sli" for a consecutive rule).
      const rule = isRulePath(path) ? ruleSchemaFor(valueAt(data, path)) : undefined;
      if (rule) {
        const again = rule.safeParse(valueAt(data, path), { reportInput: true });
        if (!again.success) return again.error.issues.flatMap((i) => mapIssue(i, path, data, loc, file));
      }
      // A branch whose issues go deeper than the union itself is the one the author meant
      // (e.g. `regions` is a list with a bad item): report that branch's issues.
      const branches = issue.errors.filter((b) => b.length > 0);
      const deep = branches.find((b) => b.some((i) => i.path.length > 0));
      if (deep) return deep.flatMap((i) => mapIssue(i, path, data, loc, file));
      const value = valueAt(data, path);
      if (value === undefined && isMissingKey(data, path)) return [missing(path, loc, file)];
      const expected = unique(branches.map((b) => expectation(b[0]!).replace(/^expected /, '')));
      return [error(loc.valueAt(path), path, `expected ${expected.join(' or ')}, got ${describeValue(value)}`)];
    }
    default:
      break;
  }

  const value = 'input' in issue && issue.input !== undefined ? issue.input : valueAt(data, path);
  if (value === undefined && isMissingKey(data, path)) return [missing(path, loc, file)];

  let message = `${expectation(issue)}, got ${describeValue(value)}`;
  if (issue.code === 'invalid_value' && typeof value === 'string') {
    const guess = closest(value, issue.values.filter((v): v is string => typeof v === 'string'));
    if (guess) message += ` (did you mean "${guess}"?)`;
  }
  const plainText = issue.code === 'invalid_type' && issue.expected === 'string' && issue.message.startsWith('Invalid');
  if (plainText && (typeof value === 'number' || typeof value === 'boolean')) {
    const src = loc.source(path);
    if (src !== undefined) message += ` (write "${src}" in quotes to keep it as text)`;
  }
  return [error(loc.valueAt(path), path, message)];
}

/** rollback.automatic[3], rollback.immediate[0] ... */
function isRulePath(path: readonly PathKey[]): boolean {
  return path.length === 3 && path[0] === 'rollback' && typeof path[2] === 'number' && ['automatic', 'circuitBreakers', 'immediate'].includes(String(path[1]));
}

/** Unknown keys of one mapping reported one by one; the rest are counted in one more error. */
const MAX_UNKNOWN_KEYS_SHOWN = 50;

function missing(path: readonly PathKey[], loc: Locator, file: string): PlanError {
  const parent = path.slice(0, -1);
  const key = path[path.length - 1]!;
  const where = loc.valueAt(parent);
  const owner = formatPath(parent);
  return { file, ...where, path: formatPath(path), message: `missing key "${String(key)}"${owner ? ` in ${owner}` : ''}` };
}

/** What the schema wanted, as a phrase starting with "expected" or the schema's own message. */
function expectation(issue: core.$ZodIssue): string {
  const custom = !/^(Invalid|Too (small|big)|Unrecognized)/.test(issue.message);
  const phrase = (s: string) => (custom ? issue.message : s);
  switch (issue.code) {
    case 'invalid_type':
      return phrase(`expected ${typeName(issue.expected)}`);
    case 'invalid_value':
      return phrase(
        issue.values.length === 1
          ? `expected ${JSON.stringify(issue.values[0])}`
          : `expected one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
      );
    case 'too_small': {
      const n = Number(issue.minimum);
      if (issue.origin === 'array' || issue.origin === 'set')
        return phrase(`expected at least ${n} item${n === 1 ? '' : 's'}`);
      if (issue.origin === 'string') return phrase(n === 1 ? 'expected a non-empty text' : `expected at least ${n} characters`);
      return phrase(`expected a number ${issue.inclusive ? 'of at least' : 'greater than'} ${n}`);
    }
    case 'too_big': {
      const n = Number(issue.maximum);
      if (issue.origin === 'array' || issue.origin === 'set') return phrase(`expected at most ${n} item${n === 1 ? '' : 's'}`);
      if (issue.origin === 'string') return phrase(`expected at most ${n} characters`);
      return phrase(`expected a number ${issue.inclusive ? 'of at most' : 'less than'} ${n}`);
    }
    case 'invalid_format':
      return phrase(`expected ${formatName(issue.format)}`);
    case 'not_multiple_of':
      return phrase(`expected a multiple of ${String(issue.divisor)}`);
    case 'invalid_key':
      return phrase('expected a valid key');
    case 'invalid_element':
      return phrase('expected a valid element');
    case 'invalid_union':
      return phrase('expected a valid value');
    case 'unrecognized_keys':
      return 'expected no other keys';
    case 'custom':
    default:
      return issue.message;
  }
}

function typeName(t: string): string {
  switch (t) {
    case 'number':
      return 'a number';
    case 'int':
      return 'a whole number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
    case 'map':
      return 'a mapping';
    default:
      return `a ${t}`;
  }
}

function formatName(f: string): string {
  switch (f) {
    case 'url':
      return 'a URL such as "http://127.0.0.1:9090"';
    case 'datetime':
      return 'an ISO 8601 date-time with an offset, e.g. "2026-11-02T09:00:00-05:00"';
    case 'date':
      return 'a date YYYY-MM-DD, e.g. 2026-12-25';
    case 'regex':
      return 'text matching the expected pattern';
    default:
      return `a valid ${f}`;
  }
}

/** `string "five"`, `number 150`, `a list (3 items)`, `nothing` ... */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (typeof v === 'string') {
    const s = v.length > 60 ? `${v.slice(0, 57)}...` : v;
    return `string ${JSON.stringify(s)}`;
  }
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list (${v.length} item${v.length === 1 ? '' : 's'})`;
  if (v instanceof Date) return `date ${v.toISOString()}`;
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

function valueAt(data: unknown, path: readonly PathKey[]): unknown {
  let cur: unknown = data;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[String(k)];
  }
  return cur;
}

/** True when the parent of `path` is a mapping that lacks the last key. */
function isMissingKey(data: unknown, path: readonly PathKey[]): boolean {
  if (path.length === 0) return false;
  const parent = valueAt(data, path.slice(0, -1));
  return parent !== null && typeof parent === 'object' && !Array.isArray(parent) && !(String(path[path.length - 1]) in parent);
}

function sortErrors(errors: PlanError[]): PlanError[] {
  return errors
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.line - b.e.line || a.e.col - b.e.col || a.i - b.i)
    .map(({ e }) => e);
}

function dedupe(errors: PlanError[]): PlanError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.line}:${e.col}:${e.path}:${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

// ---------------------------------------------------------------------------------------------
// Schema introspection: which keys an object at a path allows

interface ZodDefLike {
  type: string;
  shape?: Record<string, unknown>;
  element?: unknown;
  innerType?: unknown;
  valueType?: unknown;
  keyType?: unknown;
  options?: unknown[];
  in?: unknown;
  out?: unknown;
  entries?: Record<string, unknown>;
  values?: unknown[];
}

function defOf(schema: unknown): ZodDefLike | undefined {
  const z = (schema as { _zod?: { def?: ZodDefLike } } | undefined)?._zod;
  return z?.def;
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional']);

function unwrap(schema: unknown): unknown {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    const def = defOf(s);
    if (!def) return s;
    if (WRAPPERS.has(def.type)) s = def.innerType;
    // A pipe: its input side, unless that is a bare transform (then the schema it feeds).
    else if (def.type === 'pipe') s = defOf(def.in)?.type === 'transform' ? def.out : def.in;
    else return s;
  }
  return s;
}

/** The schemas that may describe the value at `path` (several when a union is on the way). */
function schemasAt(path: readonly PathKey[]): unknown[] {
  let current: unknown[] = [Plan];
  for (const key of path) {
    const next: unknown[] = [];
    const visit = (schema: unknown) => {
      const s = unwrap(schema);
      const def = defOf(s);
      if (!def) return;
      if (def.type === 'union') return def.options?.forEach(visit);
      if (def.type === 'object' && typeof key === 'string' && def.shape && key in def.shape) next.push(def.shape[key]);
      else if (def.type === 'array' && typeof key === 'number') next.push(def.element);
      else if (def.type === 'record') next.push(def.valueType);
    };
    current.forEach(visit);
    current = next;
  }
  return current.map(unwrap);
}

/** Keys allowed at `path` by the schema (object shape, or an enum record's keys). */
export function allowedKeys(path: readonly PathKey[]): string[] | undefined {
  const keys: string[] = [];
  const visit = (schema: unknown) => {
    const def = defOf(schema);
    if (!def) return;
    if (def.type === 'union') return def.options?.forEach((o) => visit(unwrap(o)));
    if (def.type === 'object' && def.shape) keys.push(...Object.keys(def.shape));
    if (def.type === 'record') {
      const k = defOf(unwrap(def.keyType));
      if (k?.type === 'enum' && k.entries) keys.push(...Object.values(k.entries).map(String));
    }
  };
  schemasAt(path).forEach(visit);
  return keys.length > 0 ? unique(keys) : undefined;
}

function topKeysText(): string {
  const keys = allowedKeys([]) ?? [];
  return keys.length > 0 ? `keys such as ${keys.slice(0, 4).join(', ')} ...` : 'the plan keys';
}

/** The allowed key closest to a typo, if it is close enough to be a likely intent. */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
