// labelSelector and fieldSelector query parameters, with the grammar of
// k8s.io/apimachinery/pkg/labels and pkg/fields:
//   labels: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, joined by commas;
//   fields: `f=v`, `f==v`, `f!=v`, joined by commas, on the fields the resource type declares.
// Parse errors become 400 BadRequest with the real server's wording where it is short.
import { errors } from './status.js';

export type Labels = Record<string, string>;
export type LabelPredicate = (labels: Labels) => boolean;

interface Requirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!exists' | '=' | '!=';
  values: string[];
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

function parseRequirement(term: string): Requirement {
  let m = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
  if (m) return check({ key: m[1] as string, op: m[2] as 'in' | 'notin', values: (m[3] as string).split(',').map((v) => v.trim()) }, term);
  m = /^(\S+?)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (m) return check({ key: m[1] as string, op: m[2] === '!=' ? '!=' : '=', values: [m[3] as string] }, term);
  m = /^!\s*(\S+)$/.exec(term);
  if (m) return check({ key: m[1] as string, op: '!exists', values: [] }, term);
  return check({ key: term, op: 'exists', values: [] }, term);
}

function check(r: Requirement, term: string): Requirement {
  if (!KEY.test(r.key)) throw errors.badRequest(`unable to parse requirement: found '${term}', expected: key`);
  return r;
}

export function parseLabelSelector(s: string | null): LabelPredicate {
  if (!s) return () => true;
  const reqs = splitTerms(s).map(parseRequirement);
  return (labels) =>
    reqs.every((r) => {
      const has = Object.hasOwn(labels, r.key);
      const v = labels[r.key];
      switch (r.op) {
        case 'exists':
          return has;
        case '!exists':
          return !has;
        case '=':
          return has && v === r.values[0];
        case '!=':
          return !has || v !== r.values[0];
        case 'in':
          return has && r.values.includes(v as string);
        case 'notin':
          return !has || !r.values.includes(v as string);
      }
      return false;
    });
}

export type FieldGetter = (obj: Record<string, unknown>) => string;
export type FieldPredicate = (obj: Record<string, unknown>) => boolean;

/** Reads a dotted path as the string the server compares (booleans as "true"/"false", missing as ""). */
export function readPath(obj: unknown, path: readonly string[]): string {
  let cur: unknown = obj;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return '';
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return '';
  return String(cur);
}

/**
 * @param fields the selectable fields of the type besides metadata.name and metadata.namespace.
 * An unknown field is a 400, as the real server says: `field label not supported: x`. No selector:
 * undefined (so that callers need not read the object at all).
 */
export function parseFieldSelector(s: string | null, fields: Record<string, string[]>): FieldPredicate | undefined {
  if (!s) return undefined;
  const all: Record<string, string[]> = { 'metadata.name': ['metadata', 'name'], 'metadata.namespace': ['metadata', 'namespace'], ...fields };
  const tests = splitTerms(s).map((term) => {
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw errors.badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
    const path = all[m[1] as string];
    if (!path) throw errors.badRequest(`field label not supported: ${m[1]}`);
    return { path, negate: m[2] === '!=', value: m[3] as string };
  });
  return (obj) => tests.every((t) => (readPath(obj, t.path) === t.value) !== t.negate);
}
