// `canary drive <rollout>`: the rollout's driver, headless, in the cluster (a Deployment's replicas,
// or a systemd unit): the one holding the Lease drives; the others stand by and take over.
import { HOME_OPTIONS } from './cluster-options.js';
import { checkHostPort } from './options.js';
import { defineCommand } from './types.js';

export default defineCommand({
  name: 'drive',
  summary: 'drive a CanaryRollout from inside its cluster (headless; standby replicas take over)',
  args: [{ name: 'rollout', required: true, help: 'the CanaryRollout to drive (kubectl get canaryrollouts)' }],
  options: {
    ...HOME_OPTIONS,
    prometheus: { type: 'string', arg: 'url', help: "the SLIs' Prometheus (default: the plan's sources.prometheus.url)" },
    'prometheus-header': { type: 'list', arg: "'Name: value'", help: 'extra header for Prometheus, e.g. X-Scope-OrgID (repeatable)' },
    'prometheus-ca': { type: 'string', arg: 'file', help: 'CA bundle for an https Prometheus', file: true },
    health: { type: 'string', arg: 'host:port', help: '/healthz, /readyz and /metrics here (default 0.0.0.0:8080)', check: checkHostPort },
    identity: { type: 'string', arg: 'name', help: 'who this driver is in the Lease and the status (default: $POD_NAME, else host:pid)' },
    'lease-duration': { type: 'number', arg: 'seconds', help: 'the Lease duration (default 15, as client-go)', min: 2, max: 300 },
    'renew-deadline': { type: 'number', arg: 'seconds', help: 'stop changing traffic when not renewed for this long (default 2/3 of the duration)', min: 1, max: 299 },
    'retry-period': { type: 'number', arg: 'seconds', help: 'renew (and try to take) the Lease this often (default 2)', min: 0.1, max: 60 },
    warroom: { type: 'string', arg: 'host:port', help: 'serve the war room here while driving (canary join --rollout reaches it through the API server)', check: checkHostPort },
    tokens: { type: 'string', arg: 'file', help: 'war-room token hashes (canary tokens; in a pod: a mounted Secret)', file: true },
    cert: { type: 'string', arg: 'pem', help: 'war room over wss:// (with --key)', file: true },
    key: { type: 'string', arg: 'pem', help: 'the certificate key (with --cert)', file: true },
    insecure: { type: 'boolean', help: 'war room off loopback without TLS (the pod network is yours alone)' },
  },
  details:
    'Logs are JSON lines on stdout. The CanaryRollout names the plan (spec.plan: inline or configMapRef); its status is written by this\n' +
    'driver only. Exit codes: 0 stopped by SIGTERM/SIGINT (last status written, Lease released), 1 a refusal (the CRD or the\n' +
    'CanaryRollout missing, RBAC, a journal that does not verify, a status edited by hand), 2 usage. See deploy/ and the README.',
  examples: [
    { cmd: 'canary drive maestro-conductor-rc', what: 'in a pod (deploy/): its service account and namespace' },
    { cmd: 'canary drive maestro-conductor-rc --context prod-use1 -n maestro-conductor-canary', what: 'from a shell, as a standby or the driver' },
  ],
  run: async (values, [rollout], ctx) => (await import('./impl/cluster.js')).drive(rollout!, values, ctx),
});
