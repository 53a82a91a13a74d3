// A rollout run by the real Runtime with a journal, in its own process, so that a test can kill it
// with SIGKILL at any moment and check what the journal kept (test/journal.test.ts bundles this
// file with esbuild and runs it with node).
//
//   node journal-child.mjs <journal> <plan.yaml> <plan.json> <rate> <untilMinutes> [flushEveryMs] [chunkBytes]
//
// <plan.yaml> is the plan file (its text is hashed into the journal header); <plan.json> is the
// same plan already parsed (JSON.stringify of Plan.parse): the child never parses YAML or checks
// a schema, so it starts fast (the test bundles it with zod stubbed out). It starts a new journal, or resumes the one at
// <journal> (torn tail set aside, effects in doubt carried out again), then runs simulated minutes
// paced at <rate> sim minutes per real ms, until <untilMinutes> sim minutes have passed in this
// session (0: until the rollout completes).
// stdout, one line each, written synchronously:
//   N                                      a new journal was opened
//   R <lastSeq> <tornSeq|-> <movedTo|-> <inDoubt>   resumed
//   D <seq> <hash> <type>                  a decision on disk (fsynced), printed before it is acted on
//   S <stateDigest> <status> <lastSeq>     clean end: journal closed
import { existsSync, readFileSync, writeSync } from 'node:fs';
import type { Plan } from '../../src/plan/schema.js';
import { JournalWriter, isDecision, resumeSync, stateDigest } from '../../src/journal/journal.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { TrafficActuator } from '../../src/runtime/ports.js';
import { ManualClock } from '../../src/sim/clock.js';
import { SimCrew } from '../../src/sim/crew.js';
import { gateView } from '../../src/engine/gates.js';
import type { EngineEvent, RolloutState, SliSample } from '../../src/engine/types.js';

const [journalPath, planPath, planJson, rateArg, untilArg, flushArg, chunkArg] = process.argv.slice(2);
if (!journalPath || !planPath || !planJson) {
  process.stderr.write('usage: journal-child <journal> <plan.yaml> <plan.json> <rate> <untilMinutes> [flushEveryMs] [chunkBytes]\n');
  process.exit(2);
}
const rate = Number(rateArg ?? 1);
const until = Number(untilArg ?? 0);
const flushEveryMs = Number(flushArg ?? 20);
const chunkBytes = Number(chunkArg ?? 0);

const MIN = 60_000;
const HOUR = 60 * MIN;
/** Monday 2026-11-30 14:00 UTC. */
const T0 = Date.parse('2026-11-30T14:00:00Z');
const planText = readFileSync(planPath, 'utf8');
const plan = JSON.parse(readFileSync(planJson, 'utf8')) as Plan;

const out = (line: string) => writeSync(1, line + '\n');

const HEALTHY: Record<string, number> = {
  availability: 99.97,
  latency_p95: 220,
  error_rate: 0.03,
  workflow_success_rate: 99.9,
  request_rate: 8,
  safety_violations: 0,
  critical_errors: 0,
  security_violations: 0,
  data_integrity_failures: 0,
  memory_leaks: 0,
  customer_complaints: 0,
  security_incidents: 0,
};

/** The world: healthy, but for the first 12 simulated hours the canary's error rate jumps an hour
 * into the 5% phase, which trips a rollback (how often depends on how fast the crew gets there). */
function samples(at: number, s: RolloutState): SliSample[] {
  const spike = s.desiredWeight === 5 && s.phaseBakeMs >= HOUR && at - T0 < 12 * HOUR;
  const minute = Math.floor((at - T0) / MIN);
  const out: SliSample[] = [];
  for (const [sli, v] of Object.entries(HEALTHY)) {
    const wobble = sli === 'latency_p95' ? (minute % 7) * 3 : 0;
    out.push({ sli, track: 'canary', value: sli === 'error_rate' && spike ? 2.5 : v + wobble });
    out.push({ sli, track: 'baseline', value: v + wobble });
    // The stable fleet while no canary traffic flows, as the simulated world sends it.
    if (s.desiredWeight === 0) out.push({ sli, track: 'stable', value: v + wobble });
  }
  return out;
}

let writer: JournalWriter;
let initial: RolloutState | undefined;
let inDoubt: ReturnType<typeof resumeSync>['inDoubt'] = [];
if (existsSync(journalPath)) {
  const r = resumeSync(plan, journalPath, { planText, flushEveryMs, chunkBytes });
  writer = r.writer;
  initial = r.state;
  inDoubt = r.inDoubt;
  out(`R ${r.lastSeq} ${r.torn ? r.torn.seq : '-'} ${r.torn ? r.torn.movedTo : '-'} ${r.inDoubt.length}`);
} else {
  writer = JournalWriter.openSync(journalPath, { plan, planText, start: T0, flushEveryMs, chunkBytes });
  out('N');
}

const clock = new ManualClock(initial?.now ?? T0);
const traffic: TrafficActuator = {
  name: 'child',
  setWeight: async (weight) => ({ weight, detail: `weight ${weight}%` }),
  rollback: async () => ({ weight: 0, detail: 'rolled back' }),
};
const crew = new SimCrew(plan);
const ANA = { id: 'ana', name: 'Ana Ortiz', roles: ['sre', 'sre-primary'] };
/** A person restarts a rolled-back rollout half an hour after the rollback, once the gate is open. */
const person = (s: RolloutState): EngineEvent[] =>
  s.status === 'rolled-back' && s.rollback && s.now - s.rollback.at >= 30 * MIN && gateView(plan, s).allowed ? [{ type: 'command', at: s.now, actor: ANA, command: { kind: 'advance' } }] : [];

const rt = new Runtime({
  plan,
  clock,
  traffic,
  ...(initial ? { initial } : {}),
  actuatorTimeoutMs: 60_000,
  journal: {
    append(event, state, effects) {
      const a = writer.append(event, state, effects);
      if (a && isDecision(event, effects)) {
        if (!a.durable) throw new Error(`decision seq ${a.seq} not durable`);
        out(`D ${a.seq} ${a.hash} ${a.type}`);
      }
    },
  },
  observers: [(s) => crew.decide(s), person],
});

// Effects the journal asked for and never saw confirmed: carry them out again (idempotent).
for (const eff of inDoubt) {
  const done = (r: { weight: number; detail: string }) =>
    rt.dispatch({ type: 'effect.result', at: clock.now(), effectId: eff.id, ok: true, detail: `redone after restart: ${r.detail}`, weight: r.weight });
  if (eff.type === 'set-weight') await traffic.setWeight(eff.weight, eff.regions).then(done);
  else if (eff.type === 'rollback') await traffic.rollback(eff.reason, eff.regions).then(done);
}

const started = performance.now();
let minutes = 0;
while (until === 0 ? rt.getState().status !== 'completed' : minutes < until) {
  clock.advance(30_000);
  rt.dispatch({ type: 'tick', at: clock.now() });
  const at = clock.advance(30_000);
  rt.dispatch({ type: 'sli.samples', at, samples: samples(at, rt.getState()) });
  rt.dispatch({ type: 'tick', at });
  minutes += 1;
  // Let the actuators' promises settle; keep to `rate` sim minutes per real ms.
  await new Promise((r) => setImmediate(r));
  const ahead = minutes / rate - (performance.now() - started);
  if (ahead > 1) await new Promise((r) => setTimeout(r, ahead));
}
await new Promise((r) => setImmediate(r));
writer.close();
const final = rt.getState();
out(`S ${stateDigest(final)} ${final.status} ${writer.head.seq}`);
