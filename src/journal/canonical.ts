// Canonical JSON: the one spelling of a value that the journal hashes. Keys sorted, no
// whitespace, `undefined` members left out (as JSON.stringify does). Numbers JSON cannot spell
// (Infinity, -Infinity, NaN, -0) are written as {"$n":"Infinity"} and read back by `parseLine`,
// so an event replays to exactly the value the engine saw (a histogram_quantile of +Inf must not
// come back as null). No event of the engine has an object whose only key is "$n".

export function canonicalJSON(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return number(value);
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? array(value) : object(value as Record<string, unknown>);
    case 'bigint':
      throw new TypeError('canonicalJSON: bigint is not journaled');
    default:
      return 'null';
  }
}

function array(value: unknown[]): string {
  let out = '[';
  for (let i = 0; i < value.length; i++) {
    const v: unknown = value[i];
    if (i) out += ',';
    out += v === undefined || typeof v === 'function' || typeof v === 'symbol' ? 'null' : canonicalJSON(v);
  }
  return out + ']';
}

/** `"key":` for keys seen before (events use a small fixed vocabulary). */
const quoted = new Map<string, string>();

function object(obj: Record<string, unknown>): string {
  const keys = Object.keys(obj);
  // Most objects are built with their keys already in order: check before sorting.
  for (let i = 1; i < keys.length; i++)
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    let q = quoted.get(k);
    if (q === undefined) {
      q = JSON.stringify(k) + ':';
      if (quoted.size < 10_000) quoted.set(k, q);
    }
    out += first ? q : ',' + q;
    first = false;
    out += canonicalJSON(v);
  }
  return out + '}';
}

function number(n: number): string {
  if (Number.isFinite(n)) return n === 0 && 1 / n < 0 ? '{"$n":"-0"}' : '' + n;
  return `{"$n":"${String(n)}"}`;
}

const SPECIAL: Record<string, number> = { Infinity: Infinity, '-Infinity': -Infinity, NaN: NaN, '-0': -0 };

function revive(_key: string, v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const n = o.$n;
    if (typeof n === 'string' && n in SPECIAL && Object.keys(o).length === 1) return SPECIAL[n];
  }
  return v;
}

/** JSON.parse that restores the numbers `canonicalJSON` tagged (the reviver runs only when needed). */
export function parseLine(text: string): unknown {
  return text.includes('"$n"') ? JSON.parse(text, revive) : JSON.parse(text);
}
