// Options shared by the commands that talk to the cluster holding a CanaryRollout.
import type { StringOpt } from './options.js';

export const HOME_OPTIONS = {
  kubeconfig: { type: 'string', arg: 'file', help: 'like kubectl: else KUBECONFIG, else ~/.kube/config, else in-cluster', file: true },
  context: { type: 'string', arg: 'name', help: 'the kubeconfig context of the cluster holding the CanaryRollout (default: the current one)' },
  namespace: { type: 'string', short: 'n', arg: 'name', help: "the CanaryRollout's namespace (default: the context's, in a pod its own, else default)" },
} as const satisfies Record<string, StringOpt>;
