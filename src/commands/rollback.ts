// `canary rollback --reason "..."`: traffic to 0% in every cluster of the plan, now, from any shell.
import { defineCommand } from './types.js';

export default defineCommand({
  name: 'rollback',
  summary: 'traffic to 0% in every cluster of the plan, now, from any shell',
  options: {
    reason: { type: 'string', arg: 'text', help: 'what happened (required; the hook gets it as $ROLLBACK_REASON)' },
    plan: { type: 'string', arg: 'file', help: 'the plan (default: config/maestro-conductor-rc.yaml)', file: true },
    kubeconfig: { type: 'string', arg: 'file', help: 'like kubectl: else KUBECONFIG, else ~/.kube/config, else in-cluster', file: true },
    context: { type: 'list', arg: 'name', help: 'for every region; or <region>=<name> (repeatable)' },
    as: { type: 'string', arg: 'name', help: 'who rolls back, for the record (default: $USER)' },
    json: { type: 'boolean', help: 'one JSON object: ok, reason, ms, clusters' },
  },
  details: 'Exit codes: 0 every cluster read back 0%, 3 not confirmed in every cluster, 1 the plan or the clusters, 2 usage.\nNever needs the lease; the driving console sees 0% and records the rollback.',
  examples: [{ cmd: 'canary rollback --reason "p95 1.4 s in eu-west-1"', what: 'every cluster to 0%, each read back' }],
  run: async (values, _args, ctx) => (await import('./impl/rollback.js')).rollback(values, ctx),
});
