// The war room's client commands: `canary tokens` and `canary join <url>`.
import React from 'react';
import { render } from 'ink';
import type { Actor } from '../../engine/types.js';
import { joinedLine, openRoom, runTokens } from '../../warroom/commands.js';
import { connectShowing } from './connecting.js';
import { WarRoomConsole } from '../../../components/WarRoom.js';
import { planCacheDir } from '../../env.js';
import { planAndText, serverPlan } from '../../wiring/plan.js';
import { UserError, messageOf } from '../errors.js';
import { altScreen, INK_OPTIONS, requireTerminal } from '../screen.js';
import type { Ctx } from '../types.js';
import { keymapOrFail } from './keymap.js';
import { keepCompiledCode } from '../../code-cache.js';

export async function tokens(values: { plan?: string | undefined; file?: string | undefined; person?: string[] | undefined; viewers?: number | undefined }, ctx: Ctx): Promise<number> {
  const { plan } = await planAndText(values, { cacheDir: planCacheDir(ctx.env) });
  try {
    runTokens(plan, { file: values.file, people: values.person, viewers: values.viewers ?? 0, stateHome: ctx.env.stateHome }, ctx.out);
  } catch (err) {
    throw new UserError(messageOf(err));
  }
  return 0;
}

export async function join(url: string, values: { 'token-file'?: string | undefined; ca?: string | undefined; plan?: string | undefined }, ctx: Ctx): Promise<number> {
  requireTerminal('join');
  const keymap = await keymapOrFail(ctx.env);
  let store: ReturnType<typeof openRoom>;
  try {
    store = openRoom(url, { tokenFile: values['token-file'], token: ctx.env.token, ca: values.ca });
  } catch (err) {
    throw new UserError(messageOf(err));
  }
  // The attempt is on screen at once, and q or ctrl-c leave while it is made.
  const left = await connectShowing(store);
  if (left) {
    ctx.out.write(`canary: left before joining ${url}\n`);
    return left === 'ctrl-c' ? 130 : 0;
  }
  const plan = await serverPlan(store.planText, url, values, { cacheDir: planCacheDir(ctx.env) });
  const you = store.you!;
  const actor: Actor = you.canAct ? { id: you.id, name: you.name, roles: you.roles } : { id: you.id, name: you.name, roles: [], viewer: true };
  const leave = altScreen(ctx.out);
  let quit: () => void = () => undefined;
  const ink = render(<WarRoomConsole plan={plan} store={store} actor={actor} now={() => store.getState().now} onQuit={() => quit()} room={joinedLine(store, url)} keymap={keymap} inspect={store.inspection} />, INK_OPTIONS);
  keepCompiledCode('console'); // the first frame is out (src/code-cache.ts)
  quit = () => ink.unmount();
  await ink.waitUntilExit();
  store.close();
  leave();
  ctx.out.write(`canary: left the war room (${you.name})\n`);
  return 0;
}
