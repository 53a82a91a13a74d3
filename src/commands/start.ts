// `canary start` (the default command): the console, on the embedded simulated world, Prometheus
// or the plan's clusters.
import { describeScenarios } from '../sim/scenarios.js';
import { defineCommand } from './types.js';
import { WORLD_DETAILS, WORLD_OPTIONS } from './world-options.js';

export const KEYS_LINE = `Keys: ? help, tab focus, / filter pods, a advance gate, g go at checkpoint, p pause/resume,
      i declare an incident, k acknowledge, I resolve, c communications (w writes them),
      l load test (pick, y starts; x or esc stops), R then y roll back (from anywhere), q quit.`;

export const SCENARIOS_TEXT = `Scenarios:\n${describeScenarios()
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}`;

export default defineCommand({
  name: 'start',
  summary: 'the console, on the embedded simulated world (the default command)',
  options: WORLD_OPTIONS,
  details: `${WORLD_DETAILS}\n\n${SCENARIOS_TEXT}\n\n${KEYS_LINE}`,
  examples: [
    { cmd: 'canary start', what: 'the plan, live, on the embedded world at one simulated hour a second' },
    { cmd: 'canary start --scenario healthy', what: 'the full plan to 100%' },
    { cmd: 'canary start --speed 600 --no-crew --as dev', what: 'no simulated approvers: you approve as Dev' },
    { cmd: 'canary start --journal rollout.jsonl', what: 'every decision kept; run it again to resume' },
    { cmd: 'canary start --prometheus http://127.0.0.1:9090', what: "SLIs from a real Prometheus, in real time" },
  ],
  run: async (values, _args, ctx) => (await import('./impl/console.js')).runConsole(values, ctx, null),
});
