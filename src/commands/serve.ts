// `canary serve`: the console, and the war room (its state published over WebSocket).
import { defineCommand } from './types.js';
import { SERVE_OPTIONS, WORLD_DETAILS } from './world-options.js';



export default defineCommand({
  name: 'serve',
  summary: 'the console, and the war room: its state published over WebSocket',
  options: SERVE_OPTIONS,
  details: `${WORLD_DETAILS}\n\nPeople join with \`canary join <url>\` (token: CANARY_TOKEN, from \`canary tokens\`). Approvers press A in\ntheir own terminal; the engine's matrix decides. View-only tokens never act.`,
  examples: [
    { cmd: 'canary tokens', what: 'one token per person of the roster (shown once)' },
    { cmd: 'canary serve', what: 'the console, with the war room on ws://127.0.0.1:7420/' },
    { cmd: 'canary serve --listen 0.0.0.0:7420 --cert tls.crt --key tls.key', what: 'viewers from other machines, over wss://' },
  ],
  run: async (values, _args, ctx) => (await import('./impl/console.js')).runConsole(values, ctx, values),
});
