// The placeholders of a communication template (`{{name}}`) and the values the rollout gives every
// template: read by the schema's checks and by the engine that fills the templates in. A leaf, so
// the engine does not load the plan schema (and zod) to fill in a template.

/** The values every template gets from the rollout (communications.values adds more). */
export const TEMPLATE_VALUES = [
  'service', 'release', 'version', 'previousVersion', 'owner', 'plan',
  'phase', 'phaseId', 'weight', 'audience', 'regions', 'features',
  'date', 'rolloutStart', 'statusSince', 'phaseStart', 'phaseEnd', 'timeline', 'dashboard', 'status',
  'incidents', 'rollbackReason',
] as const;

const PLACEHOLDER_RE = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Every `{{name}}` in a text, with its 1-based line. */
export function placeholders(text: string): { name: string; line: number }[] {
  const out: { name: string; line: number }[] = [];
  text.split('\n').forEach((l, i) => {
    for (const m of l.matchAll(PLACEHOLDER_RE)) out.push({ name: m[1]!, line: i + 1 });
  });
  return out;
}
