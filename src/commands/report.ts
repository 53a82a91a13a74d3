// `canary report <journal>`: a Markdown retrospective of the rollout.
import { defineCommand } from './types.js';
import { parseStartAt } from '../engine/start-at.js';

export default defineCommand({
  name: 'report',
  summary: 'a Markdown retrospective of the rollout',
  args: [{ name: 'journal', required: true, help: 'the journal file', file: true }],
  options: {
    plan: { type: 'string', arg: 'file', help: 'the plan it ran (default: config/maestro-conductor-rc.yaml)', file: true },
    kind: { type: 'string', arg: 'kind', help: "a stakeholder report of the plan's reports instead of the retrospective: the last one due in the journal", choices: ['daily', 'weekly'] },
    name: { type: 'string', arg: 'report', help: "which of the plan's reports (default: the first of --kind)" },
    at: { type: 'string', arg: 'date-time', help: "the last report due by then (2026-12-26T09:00 in the plan's time zone, or with Z / an offset)", check: (v) => { const p = parseStartAt(v); return typeof p === 'string' ? p : null; } },
  },
  examples: [
    { cmd: 'canary report rollout.jsonl > retro.md', what: 'timeline, decisions, verdicts, who did what' },
    { cmd: 'canary report rollout.jsonl --kind daily', what: "the last daily one-pager, as it was produced (the plan's reports)" },
    { cmd: 'canary report rollout.jsonl --name product-weekly --at 2026-12-07T09:00', what: 'the weekly report due by then' },
  ],
  run: async (values, [file], ctx) => (await import('./impl/journal.js')).report(file!, values, ctx),
});
