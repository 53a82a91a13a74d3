// Machine output (`-o json|yaml`): one object, as JSON (2-space indented) or YAML. A static import
// of yaml: the bundle's split chunks turn a dynamic import() of the package into a namespace
// without its named exports, and only the commands with machine output load this module.
import { stringify } from 'yaml';

export function formatMachine(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value);
}
