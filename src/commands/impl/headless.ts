// `canary run --headless`: no screen; lines (or JSON lines) and an exit code.
import { runHeadless } from '../../headless.js';
import { parseDuration } from '../../plan/duration.js';
import { buildRuntime, journalLossText } from '../../wiring/build.js';
import { UsageError } from '../errors.js';
import type { ValuesOf } from '../options.js';
import type { RUN_OPTIONS } from '../world-options.js';
import type { Ctx } from '../types.js';

export async function runHeadlessCommand(values: ValuesOf<typeof RUN_OPTIONS>, ctx: Ctx): Promise<number> {
  if (!values.headless) throw new UsageError('`canary run` needs --headless (the console is `canary start`)', 'canary run');
  const timeoutMs = values.timeout === undefined ? undefined : parseDuration(values.timeout);
  if (values.timeout !== undefined && (timeoutMs === undefined || timeoutMs <= 0))
    throw new UsageError(`--timeout ${values.timeout}: expected a duration such as 90s, 10m or 2h`, 'canary run');
  const w = await buildRuntime(values, ctx.env, { speed: 36_000, notifyEveryMs: 0 });
  if (values.until !== undefined && values.until !== 'complete' && !w.plan.phases.some((p) => p.id === values.until)) {
    await w.close();
    throw new UsageError(`--until ${values.until}: expected "complete" or a phase id: ${w.plan.phases.map((p) => p.id).join(', ')}`, 'canary run');
  }
  w.runtime.start();
  const result = await runHeadless({
    plan: w.plan,
    runtime: w.runtime,
    json: values.json === true,
    peopleAct: w.crew !== null,
    ...(values.until !== undefined ? { until: values.until } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(w.pace ? { speed: w.pace.average } : {}),
  });
  await w.close();
  // The journal lost while the run went on has ended it (held, 4); one noticed only at the last
  // write, as canary stopped, is said here.
  const lost = w.journalLoss();
  if (lost) ctx.err.write(journalLossText(lost));
  return result.code;
}
