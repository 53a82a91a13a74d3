// The in-cluster commands: `drive`, `status <rollout>`, `audit verify --rollout`, `join --rollout`
// (the work is in src/cluster/; this turns options and the environment into its calls).
import React from 'react';
import { render } from 'ink';
import type { Actor } from '../../engine/types.js';
import { joinedLine, readJoinToken } from '../../warroom/commands.js';
import { WarRoomConsole } from '../../../components/WarRoom.js';
import { planCacheDir } from '../../env.js';
import { serverPlan } from '../../wiring/plan.js';
import { UserError, messageOf } from '../errors.js';
import type { OutputFormat } from '../output.js';
import { formatMachine } from './machine.js';
import { altScreen, INK_OPTIONS, requireTerminal } from '../screen.js';
import type { Ctx } from '../types.js';
import type { DriveValues, HomeValues, IO } from '../../cluster/commands.js';
import { keepCompiledCode } from '../../code-cache.js';

function io(ctx: Ctx, out: NodeJS.WritableStream = ctx.out): IO {
  return { out, err: ctx.err, journalKey: ctx.env.journalKey, prometheus: ctx.env.prometheus, env: ctx.env.vars };
}

/** Collects what a cluster command writes, to print it as JSON or YAML. */
function collector(): { stream: NodeJS.WritableStream; text: () => string } {
  let text = '';
  const stream = { write: (c: string | Uint8Array) => ((text += String(c)), true) } as unknown as NodeJS.WritableStream;
  return { stream, text: () => text };
}

export async function drive(rollout: string, values: DriveValues & { warroom?: string | undefined; tokens?: string | undefined; cert?: string | undefined; key?: string | undefined; insecure?: boolean | undefined }, ctx: Ctx): Promise<number> {
  if (values.warroom && !values.tokens) throw new UserError('canary drive --warroom needs --tokens <file> (the hashes `canary tokens` writes; in a pod, a mounted Secret)');
  const { drive: run } = await import('../../cluster/commands.js');
  const identity = values.identity ?? ctx.env.podName;
  return run(rollout, { ...values, ...(identity ? { identity } : {}) }, io(ctx));
}

export async function status(rollout: string, values: HomeValues & { output?: OutputFormat | undefined; json?: boolean | undefined; journal?: string | undefined }, ctx: Ctx): Promise<number> {
  if (values.journal) throw new UserError('canary status: give a CanaryRollout name or --journal <file>, not both');
  const output: OutputFormat = values.json ? 'json' : (values.output ?? 'text');
  const { clusterStatus } = await import('../../cluster/commands.js');
  if (output !== 'yaml') return clusterStatus(rollout, { ...values, json: output === 'json' }, io(ctx));
  const c = collector();
  const code = await clusterStatus(rollout, { ...values, json: true }, io(ctx, c.stream));
  if (code === 0) ctx.out.write(formatMachine(JSON.parse(c.text()), 'yaml'));
  return code;
}

export async function verify(rollout: string, values: HomeValues & { output?: OutputFormat | undefined }, ctx: Ctx): Promise<number> {
  const { verifyRollout } = await import('../../cluster/commands.js');
  const output = values.output ?? 'text';
  if (output === 'text') return verifyRollout(rollout, values, io(ctx));
  const c = collector();
  const code = await verifyRollout(rollout, { ...values, json: true }, io(ctx, c.stream));
  if (c.text()) ctx.out.write(formatMachine(JSON.parse(c.text()), output));
  return code;
}

export async function join(rollout: string, values: HomeValues & { 'token-file'?: string | undefined; plan?: string | undefined }, ctx: Ctx): Promise<number> {
  requireTerminal('join');
  const { proxyStore } = await import('../../cluster/join.js');
  let opened: Awaited<ReturnType<typeof proxyStore>>;
  let token: string;
  try {
    token = readJoinToken(values['token-file'], ctx.env.token);
    opened = await proxyStore({ ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}), context: values.context, namespace: values.namespace, token, env: ctx.env.vars });
  } catch (err) {
    throw new UserError(messageOf(err));
  }
  const { store } = opened;
  // The attempt is on screen at once, and q or ctrl-c leave while it is made.
  const left = await (await import('./connecting.js')).connectShowing(store, opened.explain);
  if (left) {
    ctx.out.write(`canary: left before joining ${rollout}\n`);
    return left === 'ctrl-c' ? 130 : 0;
  }
  const where = `${rollout} (through the API server)`;
  const plan = await serverPlan(store.planText, where, values, { cacheDir: planCacheDir(ctx.env) });
  const you = store.you!;
  const actor: Actor = you.canAct ? { id: you.id, name: you.name, roles: you.roles } : { id: you.id, name: you.name, roles: [], viewer: true };
  const leave = altScreen(ctx.out);
  let quit: () => void = () => undefined;
  const ink = render(<WarRoomConsole plan={plan} store={store} actor={actor} now={() => store.getState().now} onQuit={() => quit()} room={joinedLine(store, where)} />, INK_OPTIONS);
  keepCompiledCode('console'); // the first frame is out (src/code-cache.ts)
  quit = () => ink.unmount();
  await ink.waitUntilExit();
  store.close();
  leave();
  ctx.out.write(`canary: left the war room of ${rollout} (${you.name})\n`);
  return 0;
}
