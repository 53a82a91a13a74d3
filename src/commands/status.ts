// `canary status --journal <file>` (a rollout from its journal) or `canary status <rollout>` (a
// CanaryRollout from its status in the cluster, no driver connection needed).
import { HOME_OPTIONS } from './cluster-options.js';
import { OUTPUT_OPTION } from './output.js';
import { defineCommand } from './types.js';

export default defineCommand({
  name: 'status',
  summary: 'one-shot summary of a rollout: from its journal, or a CanaryRollout from the cluster',
  args: [{ name: 'rollout', required: false, help: 'a CanaryRollout (read from the cluster); or give --journal' }],
  options: {
    journal: { type: 'string', arg: 'file', help: "the rollout's journal (without <rollout>)", file: true },
    plan: { type: 'string', arg: 'file', help: 'the plan it ran (default: config/maestro-conductor-rc.yaml)', file: true },
    ...HOME_OPTIONS,
    output: OUTPUT_OPTION,
    json: { type: 'boolean', help: 'the same as -o json' },
  },
  examples: [
    { cmd: 'canary status --journal rollout.jsonl', what: 'phase, weight, gates, verdicts, who is on call' },
    { cmd: 'canary status --journal rollout.jsonl -o json', what: 'the same, for machines' },
    { cmd: 'canary status maestro-conductor-rc --context prod-use1 -n maestro-conductor-canary', what: 'an in-cluster rollout, from its CanaryRollout' },
  ],
  run: async (values, [rollout], ctx) => (rollout ? (await import('./impl/cluster.js')).status(rollout, values, ctx) : (await import('./impl/journal.js')).status(values, ctx)),
});
