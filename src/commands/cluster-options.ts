// Options shared by the commands that talk to the cluster holding a CanaryRollout.
import type { OptionTable, StringOpt } from './options.js';

export const HOME_OPTIONS = {
  kubeconfig: { type: 'string', arg: 'file', help: 'like kubectl: else KUBECONFIG, else ~/.kube/config, else in-cluster', file: true },
  context: { type: 'string', arg: 'name', help: 'the kubeconfig context of the cluster holding the CanaryRollout (default: the current one)' },
  namespace: { type: 'string', short: 'n', arg: 'name', help: "the CanaryRollout's namespace (default: the context's, in a pod its own, else default)" },
} as const satisfies Record<string, StringOpt>;

/** `canary start --rollout <name>`: the console as a standby of an in-cluster rollout (the options
 * `canary drive` takes; --kubeconfig, --context and --prometheus are the world's own). */
export const ROLLOUT_OPTIONS = {
  rollout: { type: 'string', arg: 'name', help: 'a CanaryRollout in the cluster: watch it while another process drives (read-only), take the Lease when it expires and drive it from here' },
  namespace: { type: 'string', short: 'n', arg: 'name', help: "with --rollout: the CanaryRollout's namespace (default: the context's, else default)" },
  identity: { type: 'string', arg: 'name', help: 'with --rollout: who this console is in the Lease and the status (default: user@host:pid)' },
  'lease-duration': { type: 'number', arg: 'seconds', help: 'with --rollout: the Lease duration (default 15, as client-go)', min: 2, max: 300 },
  'renew-deadline': { type: 'number', arg: 'seconds', help: 'with --rollout: stop changing traffic when not renewed for this long (default 2/3 of the duration)', min: 1, max: 299 },
  'retry-period': { type: 'number', arg: 'seconds', help: 'with --rollout: renew (and try to take) the Lease this often (default 2)', min: 0.1, max: 60 },
} as const satisfies OptionTable;
