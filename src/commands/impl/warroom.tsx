// The war room's client commands: `canary tokens` and `canary join <url>`.
import React from 'react';
import { render } from 'ink';
import type { Actor } from '../../engine/types.js';
import { joinedLine, joinRoom, runTokens } from '../../warroom/commands.js';
import { WarRoomConsole } from '../../../components/WarRoom.js';
import { planCacheDir } from '../../env.js';
import { planAndText, serverPlan } from '../../wiring/plan.js';
import { UserError, messageOf } from '../errors.js';
import { altScreen, INK_OPTIONS, requireTerminal } from '../screen.js';
import type { Ctx } from '../types.js';
import { keymapOrFail } from './keymap.js';

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
  let store: Awaited<ReturnType<typeof joinRoom>>;
  try {
    store = await joinRoom(url, { tokenFile: values['token-file'], token: ctx.env.token, ca: values.ca });
  } catch (err) {
    throw new UserError(messageOf(err));
  }
  const plan = await serverPlan(store.planText, url, values, { cacheDir: planCacheDir(ctx.env) });
  const you = store.you!;
  const actor: Actor = you.canAct ? { id: you.id, name: you.name, roles: you.roles } : { id: you.id, name: you.name, roles: [], viewer: true };
  const leave = altScreen(ctx.out);
  let quit: () => void = () => undefined;
  const ink = render(<WarRoomConsole plan={plan} store={store} actor={actor} now={() => store.getState().now} onQuit={() => quit()} room={joinedLine(store, url)} keymap={keymap} inspect={store.inspection} />, INK_OPTIONS);
  quit = () => ink.unmount();
  await ink.waitUntilExit();
  store.close();
  leave();
  ctx.out.write(`canary: left the war room (${you.name})\n`);
  return 0;
}
