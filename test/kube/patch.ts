// The three patch formats a kube-apiserver applies, on plain JSON values:
//  - JSON Merge Patch (RFC 7386): objects merge, null deletes, arrays are replaced whole;
//  - JSON Patch (RFC 6902): add/remove/replace/move/copy/test with JSON Pointers (RFC 6901), all or
//    nothing; any failing operation (a `test` that does not match, a missing path) throws PatchError,
//    which the server answers with 422 like the real one (NewGenericServerResponse(422, ...));
//  - strategic merge patch, for built-in types only: a merge patch in which lists with a
//    patchMergeKey (containers by name, conditions by type, ...) merge element by element, and the
//    `$patch: delete | replace` directives work. The merge keys are those of the Kubernetes Go types
//    for the fields that occur in the objects served here; `$setElementOrder` and
//    `$deleteFromPrimitiveList` directives are accepted and ignored (order is kept as patched).

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export class PatchError extends Error {}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

// ---------------------------------------------------------------------------------------------
// RFC 7386 JSON Merge Patch

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// RFC 6902 JSON Patch

interface Op {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

/** Parses the body of an application/json-patch+json request; a body that is not a list of operations is a 400. */
export function decodeJsonPatch(body: unknown): Op[] {
  if (!Array.isArray(body)) throw new TypeError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  for (const op of body) {
    if (!isObject(op) || typeof op.op !== 'string') throw new TypeError('json: cannot unmarshal into Go value of type jsonpatch.Operation');
  }
  return body as unknown as Op[];
}

function parsePointer(path: unknown): string[] {
  if (typeof path !== 'string') throw new PatchError('missing path');
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(arr: Json[], token: string, forAdd: boolean): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`invalid array index "${token}"`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new PatchError(`array index ${i} out of bounds`);
  return i;
}

/** The container of the last token and that token; throws when an intermediate is missing. */
function parentOf(doc: Json, tokens: string[], path: string): { parent: JsonObject | Json[]; key: string } {
  let cur: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, false)] ?? null;
    else if (isObject(cur) && Object.hasOwn(cur, t)) cur = cur[t] ?? null;
    else throw new PatchError(`doc is missing path: "${path}": missing value`);
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw new PatchError(`doc is missing path: "${path}": missing value`);
  return { parent: cur, key: tokens[tokens.length - 1] ?? '' };
}

function getAt(doc: Json, path: string): Json | undefined {
  let cur: Json = doc;
  for (const t of parsePointer(path)) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(t) || Number(t) >= cur.length) return undefined;
      cur = cur[Number(t)] ?? null;
    } else if (isObject(cur) && Object.hasOwn(cur, t)) cur = cur[t] ?? null;
    else return undefined;
  }
  return cur;
}

function addAt(doc: Json, path: string, value: Json): Json {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true), 0, value);
  else parent[key] = value;
  return doc;
}

function removeAt(doc: Json, path: string, opName: string): Json {
  const tokens = parsePointer(path);
  if (tokens.length === 0) throw new PatchError(`${opName} operation does not apply: cannot remove the whole document`);
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false), 1);
  else {
    if (!Object.hasOwn(parent, key)) throw new PatchError(`${opName} operation does not apply: doc is missing key: ${path}: missing value`);
    delete parent[key];
  }
  return doc;
}

export function applyJsonPatch(target: Json, ops: Op[]): Json {
  let doc = clone(target);
  for (const op of ops) {
    switch (op.op) {
      case 'add':
        if (!('value' in op)) throw new PatchError('add operation has no value');
        doc = addAt(doc, op.path, clone(op.value ?? null));
        break;
      case 'remove':
        doc = removeAt(doc, op.path, 'remove');
        break;
      case 'replace':
        if (!('value' in op)) throw new PatchError('replace operation has no value');
        if (getAt(doc, op.path) === undefined) throw new PatchError(`replace operation does not apply: doc is missing key: ${op.path}: missing value`);
        if (parsePointer(op.path).length === 0) doc = clone(op.value ?? null);
        else {
          // In place, so that an object's keys keep their order.
          const { parent, key } = parentOf(doc, parsePointer(op.path), op.path);
          if (Array.isArray(parent)) parent[arrayIndex(parent, key, false)] = clone(op.value ?? null);
          else parent[key] = clone(op.value ?? null);
        }
        break;
      case 'move': {
        const v = getAt(doc, op.from ?? '');
        if (v === undefined) throw new PatchError(`move operation does not apply: doc is missing from path: ${op.from}: missing value`);
        doc = removeAt(doc, op.from ?? '', 'move');
        doc = addAt(doc, op.path, v);
        break;
      }
      case 'copy': {
        const v = getAt(doc, op.from ?? '');
        if (v === undefined) throw new PatchError(`copy operation does not apply: doc is missing from path: ${op.from}: missing value`);
        doc = addAt(doc, op.path, clone(v));
        break;
      }
      case 'test': {
        const v = getAt(doc, op.path);
        const want = op.value ?? null;
        // A missing path only equals an explicit null (evanphx/json-patch semantics).
        if (v === undefined ? want !== null : !deepEqual(v, want)) throw new PatchError(`testing value ${op.path} failed: test failed`);
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch (built-in types)

/** patchMergeKey of list fields, by field name, as declared in k8s.io/api for the types served here. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  conditions: 'type',
  ownerReferences: 'uid',
  containerStatuses: 'name',
  initContainerStatuses: 'name',
  podIPs: 'ip',
  ports: 'containerPort',
  topologySpreadConstraints: 'topologyKey',
};
/** Lists of scalars that merge as sets. */
const SET_LISTS = new Set(['finalizers']);

export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === 'delete') return null;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k.startsWith('$setElementOrder/') || k.startsWith('$deleteFromPrimitiveList/') || k === '$retainKeys') continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (Array.isArray(v) && MERGE_KEYS[k] && Array.isArray(cur)) out[k] = mergeList(cur, v, MERGE_KEYS[k] as string);
    else if (Array.isArray(v) && SET_LISTS.has(k) && Array.isArray(cur)) out[k] = [...cur, ...v.filter((x) => !cur.some((c) => deepEqual(c, x)))];
    else if (isObject(v)) {
      const merged = strategicMergePatch(cur ?? null, v);
      if (merged === null) delete out[k];
      else out[k] = merged;
    } else out[k] = stripDirectives(v);
  }
  return out;
}

function mergeList(cur: Json[], patch: Json[], key: string): Json[] {
  if (patch.some((p) => isObject(p) && p.$patch === 'replace')) return patch.filter((p) => !(isObject(p) && p.$patch === 'replace')).map(stripDirectives);
  const out = [...cur];
  for (const p of patch) {
    if (!isObject(p) || !(key in p)) {
      out.push(stripDirectives(p));
      continue;
    }
    const i = out.findIndex((c) => isObject(c) && deepEqual(c[key], p[key]));
    if (p.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = strategicMergePatch(out[i] ?? null, p);
    else out.push(stripDirectives(p));
  }
  return out;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}
