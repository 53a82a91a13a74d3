// The plan's JSON Schema, generated from the zod schema, for editors (yaml-language-server:
// `# yaml-language-server: $schema=./plan.schema.json`) and other tools. It describes the
// input (defaults make keys optional); cross-field checks are only done by `canary validate`.
import { z } from 'zod';
import { Duration, Plan, PositiveDuration, TimerDuration } from './schema.js';

/** The same language `parseDuration` accepts: 30s, 5m, 4h, 7d, 1.5h, 250ms. */
const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?(ms|s|m|h|d|w)\\s*$';

export const PLAN_SCHEMA_ID = 'https://canary.local/schemas/rollout-plan-v1.json';

/** JSON Schema (draft 2020-12) of a rollout plan as written in YAML. */
export function planJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(Plan, {
    io: 'input',
    target: 'draft-2020-12',
    // Refinements (durations) and the like cannot be expressed: they become "any" rather than
    // throwing; the string type and patterns around them are still emitted.
    unrepresentable: 'any',
    // A refinement is invisible to JSON Schema; durations get their pattern back here.
    override: (ctx) => {
      if ([Duration, PositiveDuration, TimerDuration].includes(ctx.zodSchema as never)) {
        ctx.jsonSchema.pattern = DURATION_PATTERN;
        ctx.jsonSchema.description = 'A duration: a number followed by ms, s, m, h, d or w (e.g. "24h", "7d")';
      }
    },
  }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema: typeof $schema === 'string' ? $schema : 'https://json-schema.org/draft/2020-12/schema',
    $id: PLAN_SCHEMA_ID,
    title: 'canary rollout plan (canary/v1 RolloutPlan)',
    description:
      'A progressive rollout plan for canary. Cross-field rules (weights increasing, known roles, SLIs, ' +
      'regions and people) are checked by `canary validate`, not by this schema.',
    ...rest,
  };
}
