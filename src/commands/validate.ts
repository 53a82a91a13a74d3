// `canary validate <plan>`: check a plan; a summary, or every problem as file:line:col.
import { OUTPUT_OPTION } from './output.js';
import { defineCommand } from './types.js';

export default defineCommand({
  name: 'validate',
  summary: 'check a plan; prints a summary, or file:line:col: problem',
  args: [{ name: 'plan', required: true, help: 'the plan file (YAML)', file: true }],
  options: { output: OUTPUT_OPTION },
  details: 'Exit codes: 0 valid, 1 problems, 2 usage or the file cannot be read.',
  examples: [
    { cmd: 'canary validate config/maestro-conductor-rc.yaml', what: 'the summary, or every problem with file:line:col' },
    { cmd: 'canary validate plan.yaml -o json', what: '{"file","valid","problems":[{"line","col","path","message"}],...}' },
  ],
  run: async (values, [file], ctx) => (await import('./impl/plan.js')).validate(file!, values.output ?? 'text', ctx),
});
