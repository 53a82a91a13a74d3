// `canary status --journal <file>`: one-shot summary of a rollout from its journal.
import { OUTPUT_OPTION } from './output.js';
import { defineCommand } from './types.js';

export default defineCommand({
  name: 'status',
  summary: 'one-shot summary of a rollout from its journal',
  options: {
    journal: { type: 'string', arg: 'file', help: "the rollout's journal (required)", file: true },
    plan: { type: 'string', arg: 'file', help: 'the plan it ran (default: config/maestro-conductor-rc.yaml)', file: true },
    output: OUTPUT_OPTION,
    json: { type: 'boolean', help: 'the same as -o json' },
  },
  examples: [
    { cmd: 'canary status --journal rollout.jsonl', what: 'phase, weight, gates, verdicts, who is on call' },
    { cmd: 'canary status --journal rollout.jsonl -o json', what: 'the same, for machines' },
  ],
  run: async (values, _args, ctx) => (await import('./impl/journal.js')).status(values, ctx),
});
