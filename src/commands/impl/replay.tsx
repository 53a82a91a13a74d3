// `canary replay <journal>`: the console as it was, with time to move through.
import React from 'react';
import { render } from 'ink';
import { Replay, type ReplayFrame } from '../../../components/Replay.js';
import { initialState } from '../../engine/reduce.js';
import { readJournal, replaySteps, rulesOf } from '../../journal/journal.js';
import { planCacheDir } from '../../env.js';
import { journalPlanMismatch, planAndText } from '../../wiring/plan.js';
import { UserError, messageOf } from '../errors.js';
import { altScreen, INK_OPTIONS, requireTerminal } from '../screen.js';
import type { Ctx } from '../types.js';
import { journalFile } from './journal.js';
import { keymapOrFail } from './keymap.js';
import { keepCompiledCode } from '../../code-cache.js';

export async function replay(file: string, values: { plan?: string | undefined }, ctx: Ctx): Promise<number> {
  journalFile(file);
  const keymap = await keymapOrFail(ctx.env);
  const loaded = await planAndText(values, { cacheDir: planCacheDir(ctx.env) });
  const { plan } = loaded;
  const key = ctx.env.journalKey;
  let frames: ReplayFrame[];
  try {
    const read = readJournal(file, key ? { key } : {});
    if (read.problems.length) ctx.err.write(`canary: ${file} does not verify (${read.problems.length} problem(s)); replaying what is there. Run \`canary audit verify ${file}\`.\n`);
    if (!read.header) throw new UserError(`${file}: no journal header`);
    const wrongPlan = journalPlanMismatch(file, loaded, values.plan);
    if (wrongPlan) ctx.err.write(`canary: warning: ${wrongPlan}; replaying with it anyway\n`);
    frames = [{ seq: 0, state: initialState(plan, read.header.at, rulesOf(read.header)) }];
    for (const step of replaySteps(plan, read)) frames.push({ seq: step.entry.seq, state: step.state });
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${file}: ${messageOf(err)}`);
  }
  requireTerminal('replay');
  const leave = altScreen(ctx.out);
  const ink = render(<Replay plan={plan} frames={frames} file={file} keymap={keymap} />, { ...INK_OPTIONS, maxFps: 30 });
  keepCompiledCode('console'); // the first frame is out (src/code-cache.ts)
  await ink.waitUntilExit();
  leave();
  return 0;
}
