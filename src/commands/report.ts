// `canary report <journal>`: a Markdown retrospective of the rollout.
import { defineCommand } from './types.js';

export default defineCommand({
  name: 'report',
  summary: 'a Markdown retrospective of the rollout',
  args: [{ name: 'journal', required: true, help: 'the journal file', file: true }],
  options: { plan: { type: 'string', arg: 'file', help: 'the plan it ran (default: config/maestro-conductor-rc.yaml)', file: true } },
  examples: [{ cmd: 'canary report rollout.jsonl > retro.md', what: 'timeline, decisions, verdicts, who did what' }],
  run: async (values, [file], ctx) => (await import('./impl/journal.js')).report(file!, values, ctx),
});
