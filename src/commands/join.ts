// `canary join <url>`: the same console, live from a `canary serve`, as the token's person.
import { HOME_OPTIONS } from './cluster-options.js';
import { defineCommand } from './types.js';

export const JOIN_OPTIONS = {
  'token-file': { type: 'string', arg: 'file', help: 'read the token from this file (else CANARY_TOKEN)', file: true },
  ca: { type: 'string', arg: 'pem', help: 'trust this CA (a self-signed certificate of the server)', file: true },
} as const;

export default defineCommand({
  name: 'join',
  summary: 'the same console, live, as the person of CANARY_TOKEN',
  args: [{ name: 'url', required: false, help: 'the ws:// or wss:// URL `canary serve` shows (or --rollout)' }],
  options: {
    ...JOIN_OPTIONS,
    plan: { type: 'string', arg: 'file', help: 'a local plan, used only if the server sends none', file: true },
    rollout: { type: 'string', arg: 'name', help: "an in-cluster driver's war room, through the API server (your kubeconfig; RBAC: get services/proxy)" },
    ...HOME_OPTIONS,
  },
  examples: [
    { cmd: 'CANARY_TOKEN=... canary join ws://127.0.0.1:7420/', what: 'the console, as you; A approves in your name' },
    { cmd: 'CANARY_TOKEN=... canary join --rollout maestro-conductor-rc --context prod-use1 -n maestro-conductor-canary', what: "the in-cluster driver's console, through the API server" },
  ],
  run: async (values, [url], ctx) => {
    if (values.rollout) return (await import('./impl/cluster.js')).join(values.rollout, values, ctx);
    if (!url) throw new (await import('./errors.js')).UsageError('canary join needs <url> (a canary serve) or --rollout <name> (an in-cluster driver)', 'canary join');
    return (await import('./impl/warroom.js')).join(url, values, ctx);
  },
});
