// `canary run --headless`: no screen; lines (or JSON lines) and an exit code.
import { defineCommand } from './types.js';
import { RUN_OPTIONS, WORLD_DETAILS } from './world-options.js';



export default defineCommand({
  name: 'run',
  summary: 'no screen: what happens as lines (or JSON lines) and an exit code, for a pipeline',
  options: RUN_OPTIONS,
  details: `On the embedded world it runs at --speed 36000 (ten simulated hours a second) unless told
otherwise; with --prometheus or a Kubernetes plan, in real time.

Exit codes:
  0    completed (promoted and baked), or the --until point was reached
  1    the plan or the environment is wrong
  2    usage: an unknown option or a bad option value
  3    rolled back (automatically or by a person): the reason is the last line
  4    held: waiting for a person (approvals, a checkpoint go, an overdue decision)
  5    no data: a source (Prometheus) stayed unavailable, or an SLI the gate needs had no
       valid data (nothing, NaN, an impossible value; with traffic on, a canary serving no
       requests), past the plan's noDataAfter (4 when the plan's analysis.onNoData is hold)
  124  --timeout passed first: the last line says what the rollout waited for
  130  stopped by SIGINT/SIGTERM, after effects in flight were confirmed

${WORLD_DETAILS}`,
  examples: [
    { cmd: 'canary run --headless --json --until canary-5 > canary.jsonl', what: 'take the canary to 5%; the exit code says how it went' },
    { cmd: 'canary run --headless --scenario error-spike', what: 'a regression: rolled back, exit 3' },
    { cmd: 'canary run --headless --prometheus http://127.0.0.1:9090 --timeout 2h', what: 'a CI step that never hangs: exit 124 after two hours' },
    { cmd: 'canary run --headless --prometheus http://127.0.0.1:9090', what: 'SLIs from Prometheus, in real time' },
  ],
  run: async (values, _args, ctx) => (await import('./impl/headless.js')).runHeadlessCommand(values, ctx),
});
