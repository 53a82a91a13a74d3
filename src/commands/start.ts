// `canary start` (the default command): the console, on the embedded simulated world, Prometheus
// or the plan's clusters.
import { ACTIONS, type ActionName } from '../config/actions.js';
import { describeScenarios } from '../sim/scenarios.js';
import { defineCommand } from './types.js';
import { WORLD_DETAILS, WORLD_OPTIONS } from './world-options.js';

const ACTION_NAMES_IN_HELP = (Object.keys(ACTIONS) as ActionName[]).filter((a) => a !== 'rollback' && ACTIONS[a].group !== 'Pods' && ACTIONS[a].group !== 'Panes');

/** The default keys, from the key registry's action table (remapped keys show in the console's help). */
export const KEYS_LINE = `Keys (defaults; ? in the console shows the keys in force):\n${wrap(
  ACTION_NAMES_IN_HELP.map((a) => `${ACTIONS[a].keys.join('/')} ${ACTIONS[a].hint}`).join(', ') + ', R then y roll back (from anywhere).',
  96,
)
  .map((l) => `  ${l}`)
  .join('\n')}`;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

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
