// `canary audit verify <journal>`: check the journal's hash chain; print the head to record.
import { HOME_OPTIONS } from './cluster-options.js';
import { OUTPUT_OPTION } from './output.js';
import { defineCommand } from './types.js';

/** seq:hash or hash, 64 hex digits. */
export function checkHead(text: string): string | null {
  return /^(?:\d+:)?[0-9a-f]{64}$/.test(text.trim()) ? null : 'expected <seq>:<hash> or <hash>, the hash 64 hex digits (as `canary audit verify` prints after "head:")';
}

const verify = defineCommand({
  name: 'verify',
  summary: 'check the hash chain; print the head (record it to catch truncation later)',
  args: [{ name: 'journal', required: false, help: 'the journal file (or --rollout)', file: true }],
  options: {
    'expect-head': { type: 'string', arg: 'seq:hash', help: 'the head recorded earlier: also catches entries cut off the end', check: checkHead },
    rollout: { type: 'string', arg: 'name', help: "a CanaryRollout's journal in the cluster (ConfigMap segments), anchored by its status's head" },
    ...HOME_OPTIONS,
    output: OUTPUT_OPTION,
  },
  details: 'CANARY_JOURNAL_KEY (environment) checks a keyed (HMAC) journal. Exit codes: 0 the chain holds, 1 it does not (or the file is not a journal), 2 usage.',
  examples: [
    { cmd: 'canary audit verify rollout.jsonl', what: 'the chain, the first tampered entry, the head' },
    { cmd: 'canary audit verify rollout.jsonl --expect-head 5910:3926c8…', what: 'also catches truncation' },
    { cmd: 'canary audit verify rollout.jsonl -o json', what: '{"ok","entries","head","problems",...}' },
    { cmd: 'canary audit verify --rollout maestro-conductor-rc -n maestro-conductor-canary', what: 'the journal in the cluster; names the segment of a problem' },
  ],
  run: async (values, [file], ctx) => {
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
