// `canary replay <journal>`: the console as it was, with time to move through.
import { defineCommand } from './types.js';

export default defineCommand({
  name: 'replay',
  summary: 'the console as it was: ←/→ event, [/] hour, n next rollback',
  args: [{ name: 'journal', required: true, help: 'the journal file', file: true }],
  options: { plan: { type: 'string', arg: 'file', help: 'the plan it ran (default: config/maestro-conductor-rc.yaml)', file: true } },
  examples: [{ cmd: 'canary replay rollout.jsonl', what: 'step through every decision (read-only)' }],
  run: async (values, [file], ctx) => (await import('./impl/replay.js')).replay(file!, values, ctx),
});
