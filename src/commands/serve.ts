// `canary serve`: the console, and the war room (its state published over WebSocket).
import { checkHostPort, type OptionTable } from './options.js';
import { defineCommand } from './types.js';
import { WORLD_DETAILS, WORLD_OPTIONS } from './world-options.js';

export const SERVE_OPTIONS = {
  ...WORLD_OPTIONS,
  listen: { type: 'string', arg: 'host:port', help: 'where viewers join (default: 127.0.0.1:7420; loopback); another address needs --cert/--key (wss://), or --insecure', check: checkHostPort },
  tokens: { type: 'string', arg: 'file', help: 'token hashes (default: $XDG_STATE_HOME/canary/<plan>-tokens.json)', file: true },
  cert: { type: 'string', arg: 'pem', help: 'certificate: wss:// instead of ws:// (with --key)', file: true },
  key: { type: 'string', arg: 'pem', help: 'private key of --cert', file: true },
  insecure: { type: 'boolean', help: 'allow plain ws:// on a non-loopback address (tokens then cross the network in clear)' },
} as const satisfies OptionTable;

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
