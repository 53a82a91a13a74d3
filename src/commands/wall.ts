// `canary wall [url]`: the war-room display (charts, weight, phase, pods, on call).
import { JOIN_OPTIONS } from './join.js';
import { defineCommand } from './types.js';
import { WORLD_OPTIONS } from './world-options.js';

export default defineCommand({
  name: 'wall',
  summary: 'the war-room display (charts, weight, phase, pods, on call), joined to a serve, or on the embedded world',
  args: [{ name: 'url', required: false, help: 'the ws:// or wss:// URL of a `canary serve` (none: the embedded world)' }],
  options: { ...WORLD_OPTIONS, ...JOIN_OPTIONS },
  examples: [
    { cmd: 'canary wall', what: 'the display, on the embedded simulated world' },
    { cmd: 'CANARY_TOKEN=... canary wall ws://127.0.0.1:7420/', what: 'the display of a running serve' },
  ],
  run: async (values, [url], ctx) => (await import('./impl/wall.js')).wall(url, values, ctx),
});
