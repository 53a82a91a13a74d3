// `canary audit verify <journal>`: check the journal's hash chain; print the head to record.
import { HOME_OPTIONS } from './cluster-options.js';
import { OUTPUT_OPTION } from './output.js';
import { defineCommand } from './types.js';

/** The fewest hex digits of a head's hash --expect-head takes: 64 bits. The recorded head is what
 * stands between a journal and an undetected rewrite of its end, so a prefix must be far too long
 * to forge by trying (git's 7 digits would take a laptop seconds). */
export const MIN_HEAD_PREFIX = 16;

/** seq:hash or hash: the 64 hex digits `canary audit verify` prints after "head:", or a prefix of
 * at least MIN_HEAD_PREFIX of them (as git takes a commit's). */
export function checkHead(text: string): string | null {
  if (new RegExp(`^(?:\\d+:)?[0-9a-f]{${MIN_HEAD_PREFIX},64}$`).test(text.trim())) return null;
  const short = /^(?:\d+:)?([0-9a-f]+)\W*$/.exec(text.trim());
  if (short && short[1]!.length < MIN_HEAD_PREFIX)
    return `the hash has ${short[1]!.length} hex digit${short[1]!.length === 1 ? '' : 's'}; give at least ${MIN_HEAD_PREFIX} of the 64 that \`canary audit verify\` prints after "head:" (all 64 is best), e.g. 5910:3926c8d1e0a4f7b2`;
  return `expected <seq>:<hash> or <hash>: the 64 hex digits \`canary audit verify\` prints after "head:", or the first ${MIN_HEAD_PREFIX} or more of them`;
}

const verify = defineCommand({
  name: 'verify',
  summary: 'check the hash chain; print the head (record it to catch truncation later)',
  args: [{ name: 'journal', required: false, help: 'the journal file (or --rollout)', file: true }],
  options: {
    'expect-head': { type: 'string', arg: 'seq:hash', help: `the head recorded earlier (its 64 hex digits, or the first ${MIN_HEAD_PREFIX} or more): also catches entries cut off the end`, check: checkHead },
    rollout: { type: 'string', arg: 'name', help: "a CanaryRollout's journal in the cluster (ConfigMap segments), anchored by its status's head" },
    ...HOME_OPTIONS,
    output: OUTPUT_OPTION,
  },
  details: 'CANARY_JOURNAL_KEY (environment) checks a keyed (HMAC) journal. Exit codes: 0 the chain holds, 1 it does not (or the file is not a journal), 2 usage.',
  examples: [
    { cmd: 'canary audit verify rollout.jsonl', what: 'the chain, the first tampered entry, the head' },
    { cmd: 'canary audit verify rollout.jsonl --expect-head 5910:3926c8d1e0a4f7b2', what: `also catches truncation (the head's hash, or its first ${MIN_HEAD_PREFIX}+ hex digits)` },
    { cmd: 'canary audit verify rollout.jsonl -o json', what: '{"ok","entries","head","problems",...}' },
    { cmd: 'canary audit verify --rollout maestro-conductor-rc -n maestro-conductor-canary', what: 'the journal in the cluster; names the segment of a problem' },
  ],
  run: async (values, [file], ctx) => {
    if (values.rollout && values['expect-head'])
      throw new (await import('./errors.js')).UsageError("--expect-head is for a journal file; the journal in the cluster is checked against its CanaryRollout's status head (cut-off entries are caught without it)", 'canary audit verify');
    if (values.rollout) return (await import('./impl/cluster.js')).verify(values.rollout, values, ctx);
    if (!file) throw new (await import('./errors.js')).UsageError('canary audit verify needs <journal> (a file) or --rollout <name> (a CanaryRollout in the cluster)', 'canary audit verify');
    return (await import('./impl/journal.js')).auditVerify(file, values, ctx);
  },
});

export default defineCommand({
  name: 'audit',
  summary: "check a journal's hash chain (audit verify <journal>)",
  options: {},
  subcommands: [verify],
  examples: [{ cmd: 'canary audit verify rollout.jsonl', what: 'the chain, and the head to record' }],
});
