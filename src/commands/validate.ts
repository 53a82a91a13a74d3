// `canary validate <plan>`: check a plan; a summary, or every problem as file:line:col.
import { OUTPUT_OPTION } from './output.js';
import { defineCommand } from './types.js';
import { WORLD_OPTIONS } from './world-options.js';

export default defineCommand({
  name: 'validate',
  summary: 'check a plan; prints a summary, or file:line:col: problem',
  args: [{ name: 'plan', required: true, help: 'the plan file (YAML)', file: true }],
  options: {
    output: OUTPUT_OPTION,
    against: { type: 'string', arg: 'url', help: "also run each SLI query once at this Prometheus and report what it returned (one finite number in range, or the named problem)" },
    'prometheus-header': WORLD_OPTIONS['prometheus-header'],
    'prometheus-ca': WORLD_OPTIONS['prometheus-ca'],
  },
  details: 'Exit codes: 0 valid (and with --against, every query gave one valid number), 1 problems, 2 usage or the file cannot be read.',
  examples: [
    { cmd: 'canary validate config/maestro-conductor-rc.yaml', what: 'the summary, or every problem with file:line:col' },
    { cmd: 'canary validate plan.yaml -o json', what: '{"file","valid","problems":[{"line","col","path","message"}],...}' },
    { cmd: 'canary validate plan.yaml --against http://127.0.0.1:9090', what: "each SLI query's shape and value at a live Prometheus" },
  ],
  run: async (values, [file], ctx) => (await import('./impl/plan.js')).validate(file!, values.output ?? 'text', ctx, values),
});
