// War-room tokens: one per person of the plan's roster (and any number of view-only ones). The
// token is printed once; the file keeps only a salted SHA-256 of it. A token is 32 random bytes
// (256 bits), so a fast hash is enough: slow hashes (scrypt) protect guessable passwords, and would
// cost every join tens of milliseconds. Comparison is constant-time (crypto.timingSafeEqual).
//
// Token text: `cnry_<id>_<secret>`; the id finds the entry, the secret is checked against its hash.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Plan } from '../plan/schema.js';
import type { Identity } from './protocol.js';

export interface TokenEntry {
  id: string;
  /** A roster person's id; null for a view-only token. */
  person: string | null;
  kind: 'person' | 'viewer';
  salt: string;
  /** hex sha256(salt + secret) */
  hash: string;
  createdAt: string;
}

export interface TokenFile {
  version: 1;
  plan: string;
  tokens: TokenEntry[];
}

/** $XDG_STATE_HOME/canary/<plan>-tokens.json (`stateHome`: CanaryEnv.stateHome, src/env.ts). */
export function defaultTokenPath(plan: Plan, stateHome: string): string {
  return join(stateHome, 'canary', `${plan.metadata.name}-tokens.json`);
}

function hashSecret(salt: string, secret: string): Buffer {
  return createHash('sha256').update(salt).update(':').update(secret).digest();
}

function newEntry(person: string | null, kind: TokenEntry['kind']): { entry: TokenEntry; token: string } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16).toString('hex');
  return { entry: { id, person, kind, salt, hash: hashSecret(salt, secret).toString('hex'), createdAt: new Date().toISOString() }, token: `cnry_${id}_${secret}` };
}

export interface Issued {
  person: string | null;
  name: string;
  roles: string[];
  token: string;
}

/** New tokens: for `people` (default: everyone on the roster) and `viewers` view-only ones. Tokens
 * of other people already in `previous` are kept (their holders need not be told again). */
export function issueTokens(plan: Plan, opts: { people?: string[]; viewers?: number; previous?: TokenFile | null }): { file: TokenFile; issued: Issued[] } {
  const roster = plan.roster.people;
  const people = opts.people ?? roster.map((p) => p.id);
  for (const id of people) if (!roster.some((p) => p.id === id)) throw new Error(`--person ${id}: no such person in the plan's roster; expected one of: ${roster.map((p) => p.id).join(', ')}`);
  const keep = (opts.previous?.plan === plan.metadata.name ? opts.previous.tokens : []).filter((t) => t.kind === 'person' && t.person !== null && !people.includes(t.person) && roster.some((p) => p.id === t.person));
  const issued: Issued[] = [];
  const tokens: TokenEntry[] = [...keep, ...(opts.previous?.plan === plan.metadata.name && opts.people ? opts.previous.tokens.filter((t) => t.kind === 'viewer') : [])];
  for (const id of people) {
    const p = roster.find((x) => x.id === id)!;
    const { entry, token } = newEntry(id, 'person');
    tokens.push(entry);
    issued.push({ person: id, name: p.name, roles: p.roles, token });
  }
  for (let i = 0; i < (opts.viewers ?? 0); i++) {
    const { entry, token } = newEntry(null, 'viewer');
    tokens.push(entry);
    issued.push({ person: null, name: `viewer ${entry.id}`, roles: [], token });
  }
  return { file: { version: 1, plan: plan.metadata.name, tokens }, issued };
}

export function readTokenFile(path: string): TokenFile {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)} (create it with \`canary tokens\`)`);
  }
  const f = data as TokenFile;
  if (!f || f.version !== 1 || !Array.isArray(f.tokens)) throw new Error(`${path}: not a canary token file (version 1); create it with \`canary tokens\``);
  for (const [i, t] of f.tokens.entries()) {
    if (typeof t.id !== 'string' || typeof t.salt !== 'string' || typeof t.hash !== 'string' || !/^[0-9a-f]{64}$/.test(t.hash) || (t.kind !== 'person' && t.kind !== 'viewer'))
      throw new Error(`${path}: tokens[${i}] is malformed; issue new tokens with \`canary tokens\``);
  }
  return f;
}

/** Written with mode 0600, atomically (a temp file renamed over the old one). */
export function writeTokenFile(path: string, file: TokenFile): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function readTokenFileIfAny(path: string): TokenFile | null {
  return existsSync(path) ? readTokenFile(path) : null;
}

/** Checks tokens against a token file for one plan: who is this, and may they act. Built with
 * `path`, it follows the file: `refresh()` (the server calls it on every join, every action and
 * every few seconds) re-reads it when it changed on disk (inode, size or mtime), so a token
 * re-issued (`canary tokens --person jon`) or removed stops working without a restart. */
export class TokenBook {
  private byId: Map<string, TokenEntry>;
  private seen: string | null = null;
  constructor(
    private readonly plan: Plan,
    file: TokenFile,
    private readonly path?: string,
    /** Told when the file changed (and what it did), or could not be read (the last good one stays). */
    private readonly onReload?: (line: string) => void,
  ) {
    if (file.plan !== plan.metadata.name) throw new Error(`the token file is for plan "${file.plan}", not "${plan.metadata.name}"; issue tokens with \`canary tokens --plan <this plan>\``);
    this.byId = new Map(file.tokens.map((t) => [t.id, t]));
    if (path) this.seen = stamp(path);
  }

  /** Re-reads the file when it changed since the last look; true when the tokens changed. A file
   * that disappeared leaves no token valid; one that cannot be read or is for another plan keeps
   * the last good tokens and says why. */
  refresh(): boolean {
    if (!this.path) return false;
    const now = stamp(this.path);
    if (now === this.seen) return false;
    this.seen = now;
    if (now === null) {
      this.byId = new Map();
      this.onReload?.(`${this.path} is gone: no war-room token is valid until \`canary tokens\` writes it again`);
      return true;
    }
    try {
      const file = readTokenFile(this.path);
      if (file.plan !== this.plan.metadata.name) throw new Error(`${this.path}: the token file is now for plan "${file.plan}", not "${this.plan.metadata.name}"`);
      const before = this.byId;
      this.byId = new Map(file.tokens.map((t) => [t.id, t]));
      const gone = [...before.keys()].filter((id) => !this.byId.has(id)).length;
      const added = [...this.byId.keys()].filter((id) => !before.has(id)).length;
      this.onReload?.(`tokens re-read from ${this.path}: ${added} new, ${gone} revoked`);
      return true;
    } catch (err) {
      this.onReload?.(`${err instanceof Error ? err.message : String(err)}; the tokens read before stay in force`);
      return false;
    }
  }

  /** The token entry `token` was checked against is still in the file. */
  has(tokenId: string): boolean {
    return this.byId.has(tokenId);
  }

  /** The identity behind `token`, or null (unknown, malformed, wrong secret, person no longer on the roster). */
  verify(token: string | undefined | null): Identity | null {
    return this.check(token)?.who ?? null;
  }

  /** `verify`, with the id of the token's entry (a connection is closed once it is revoked). */
  check(token: string | undefined | null): { who: Identity; tokenId: string } | null {
    if (!token) return null;
    const m = /^cnry_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(token);
    // Unknown ids still pay for one hash and one comparison, so timing says nothing about them.
    const entry = m ? this.byId.get(m[1]!) : undefined;
    const expected = Buffer.from(entry?.hash ?? '0'.repeat(64), 'hex');
    const got = hashSecret(entry?.salt ?? '', m?.[2] ?? token);
    const same = timingSafeEqual(expected, got);
    if (!entry || !same) return null;
    if (entry.kind === 'viewer' || entry.person === null) return { who: { id: `viewer-${entry.id}`, name: `viewer ${entry.id}`, roles: [], canAct: false }, tokenId: entry.id };
    const p = this.plan.roster.people.find((x) => x.id === entry.person);
    if (!p) return null;
    return { who: { id: p.id, name: p.name, roles: [...p.roles], canAct: true }, tokenId: entry.id };
  }
}

/** What identifies the file's version on disk (null: no file). */
function stamp(path: string): string | null {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return null;
  }
}
