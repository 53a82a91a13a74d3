// `canary start` and `canary serve`: the console (and for serve, the war room).
import React from 'react';
import { render } from 'ink';
import { App } from '../../../components/App.js';
import type { OpenedRoom } from '../../warroom/commands.js';
import { buildRuntime, journalLossText, type WorldValues } from '../../wiring/build.js';
import { UserError, messageOf } from '../errors.js';
import type { ValuesOf } from '../options.js';
import { altScreen, INK_OPTIONS, requireTerminal } from '../screen.js';
import type { SERVE_OPTIONS } from '../world-options.js';
import type { Ctx } from '../types.js';
import { keymapOrFail } from './keymap.js';
import { SimPace } from '../../sim/pace.js';
import { keepCompiledCode } from '../../code-cache.js';

export async function runConsole(values: WorldValues, ctx: Ctx, serve: ValuesOf<typeof SERVE_OPTIONS> | null): Promise<number> {
  requireTerminal(serve ? 'serve' : 'start');
  const keymap = await keymapOrFail(ctx.env);
  const w = await buildRuntime(values, ctx.env, { speed: 3600, notifyEveryMs: 100, serve: true });
  const { plan, planText, clock, runtime, actor, journal, notifyOff, notifyOn, commsDir } = w;
  // `canary serve`: the same console, and its state published to the war room. (The war room,
  // ws and its server are loaded by this command only.)
  let room: OpenedRoom | null = null;
  const WarRoomConsole = serve ? (await import('../../../components/WarRoom.js')).WarRoomConsole : null;
  if (serve) {
    const { openWarRoom } = await import('../../warroom/commands.js');
    try {
      room = await openWarRoom({ plan, planText, runtime, clock, inspector: w.inspector, listen: serve.listen, tokens: serve.tokens, cert: serve.cert, key: serve.key, insecure: serve.insecure, stateHome: ctx.env.stateHome });
    } catch (err) {
      await w.close();
      throw new UserError(messageOf(err));
    }
  }
  const leaveAltScreen = altScreen(ctx.out);
  // A closed terminal (SIGHUP) or a kill (SIGTERM) skips Node's 'exit' handlers by default: turn
  // them into an exit, so a running artillery process group, the alternate screen and the journal
  // lock are taken care of (ctrl-c is Ink's, and ends the same way; so does a SIGINT).
  for (const [sig, code] of [['SIGTERM', 143], ['SIGHUP', 129], ['SIGINT', 130]] as const) process.once(sig, () => process.exit(code));
  // Sources first, so the very first frame already has data.
  runtime.start();
  // The embedded world's clock: the console's speed keys, and slowing down by itself around a
  // moment that needs a person (src/sim/pace.ts). Real time (Prometheus, clusters) is never paced.
  const pace = w.pace ? new SimPace(w.pace.clock, plan, w.pace.actual) : null;
  const unobserve = pace ? runtime.subscribe(() => pace.observe(runtime.getState())) : null;
  pace?.observe(runtime.getState());
  let quit: () => void = () => undefined;
  const props = { plan, store: runtime, actor, now: () => clock.now(), onQuit: () => quit(), people: { notifyOn, notifyOff, commsDir }, keymap, simulated: w.mode !== 'kubernetes', inspect: w.inspection, ...(journal ? { journal } : {}), ...(pace ? { clock: pace } : {}) };
  const ink = render(room && WarRoomConsole ? <WarRoomConsole {...props} room={room} /> : <App {...props} />, INK_OPTIONS);
  keepCompiledCode('console'); // the first frame is out (src/code-cache.ts)
  quit = () => ink.unmount();
  await ink.waitUntilExit();
  unobserve?.();
  await room?.close();
  await w.close();
  leaveAltScreen();
  const s = runtime.getState();
  ctx.out.write(`canary: left the console; rollout ${s.status} at ${s.desiredWeight}%${s.rollback ? ` (${s.rollback.reason})` : ''}${journal ? `; journal ${journal}` : ''}\n`);
  const lost = w.journalLoss();
  if (lost) ctx.err.write(journalLossText(lost));
  return 0;
}
