// `canary declare <url> --kind <id> --summary "..."`: declare an incident against a running
// `canary serve` war room from a headless terminal (a pager's shell), as the person of CANARY_TOKEN.
import { JOIN_OPTIONS } from './join.js';
import { defineCommand } from './types.js';

export default defineCommand({
  name: 'declare',
  summary: 'declare an incident in a running war room (canary serve), from any shell',
  args: [{ name: 'url', required: true, help: 'the ws:// or wss:// URL `canary serve` shows' }],
  options: {
    ...JOIN_OPTIONS,
    kind: { type: 'string', arg: 'id', help: "the incident kind: one of the plan's immediate kinds (they roll back at once), or other" },
    severity: { type: 'string', arg: 'P0|P1|P2', help: "default: the kind's own (other: P1)", choices: ['P0', 'P1', 'P2'] },
    summary: { type: 'string', arg: 'text', help: 'one line: what is happening (journaled, and in the pages)' },
  },
  details: 'Exit codes: 0 the war room took it (an immediate kind rolled back), 1 refused or no answer, 2 usage.',
  examples: [{ cmd: 'CANARY_TOKEN=... canary declare ws://127.0.0.1:7420/ --kind security_breach --summary "tokens in logs"', what: 'declared as you; the plan rolls back at once' }],
  run: async (values, [url], ctx) => (await import('./impl/declare.js')).declare(url!, values, ctx),
});
