// `canary tokens`: war-room tokens, shown once (the file keeps hashes).
import { defineCommand } from './types.js';

export default defineCommand({
  name: 'tokens',
  summary: 'war-room tokens (shown once; the file keeps hashes)',
  options: {
    plan: { type: 'string', arg: 'file', help: 'the plan whose roster gets tokens (default: config/maestro-conductor-rc.yaml)', file: true },
    file: { type: 'string', arg: 'file', help: 'token hashes (default: $XDG_STATE_HOME/canary/<plan>-tokens.json)', file: true },
    person: { type: 'list', arg: 'id', help: 'only this person of the roster (repeatable; default: everyone)' },
    viewers: { type: 'number', arg: 'n', help: 'view-only tokens to issue too (default: 0)', min: 0, max: 1000, integer: true },
  },
  examples: [
    { cmd: 'canary tokens', what: 'one token per person of the roster' },
    { cmd: 'canary tokens --person ben --viewers 3', what: "Ben's token and three view-only ones" },
  ],
  run: async (values, _args, ctx) => (await import('./impl/warroom.js')).tokens(values, ctx),
});
