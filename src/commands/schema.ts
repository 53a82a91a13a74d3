// `canary schema`: the plan's JSON Schema, for editors.
import { defineCommand } from './types.js';

export default defineCommand({
  name: 'schema',
  summary: "print the plan's JSON Schema (for editors)",
  options: {},
  examples: [{ cmd: 'canary schema > plan.schema.json', what: 'then `# yaml-language-server: $schema=plan.schema.json` in a plan' }],
  run: async (_values, _args, ctx) => (await import('./impl/plan.js')).schema(ctx),
});
