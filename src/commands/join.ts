// `canary join <url>`: the same console, live from a `canary serve`, as the token's person.
import { defineCommand } from './types.js';

export const JOIN_OPTIONS = {
  'token-file': { type: 'string', arg: 'file', help: 'read the token from this file (else CANARY_TOKEN)', file: true },
  ca: { type: 'string', arg: 'pem', help: 'trust this CA (a self-signed certificate of the server)', file: true },
} as const;

export default defineCommand({
  name: 'join',
  summary: 'the same console, live, as the person of CANARY_TOKEN',
  args: [{ name: 'url', required: true, help: 'the ws:// or wss:// URL `canary serve` shows' }],
  options: { ...JOIN_OPTIONS, plan: { type: 'string', arg: 'file', help: 'a local plan, used only if the server sends none', file: true } },
  examples: [{ cmd: 'CANARY_TOKEN=... canary join ws://127.0.0.1:7420/', what: 'the console, as you; A approves in your name' }],
  run: async (values, [url], ctx) => (await import('./impl/warroom.js')).join(url!, values, ctx),
});
