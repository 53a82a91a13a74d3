// `canary wall [url]`: the war-room display (blessed-contrib); joins a serve, or runs the embedded world.
import type { Plan } from '../../plan/schema.js';
import type { Store } from '../../runtime/store.js';
import { buildRuntime, type WorldValues } from '../../wiring/build.js';
import { UserError, messageOf } from '../errors.js';
import type { Ctx } from '../types.js';
import { planCacheDir } from '../../env.js';
import { serverPlan } from '../../wiring/plan.js';

export async function wall(url: string | undefined, values: WorldValues & { 'token-file'?: string | undefined; ca?: string | undefined }, ctx: Ctx): Promise<number> {
  if (!ctx.out.isTTY) throw new UserError('canary wall draws a full screen: run it in a terminal');
  const { startWall } = await import('../../../components/Wall.js');
  let plan: Plan;
  let store: Store;
  let source: string;
  let speed: (() => number) | undefined;
  let link: import('../../../components/Wall.js').WallLink | undefined;
  let stop: () => Promise<void> | void;
  if (url) {
    const { joinRoom, joinedLine } = await import('../../warroom/commands.js');
    let remote: Awaited<ReturnType<typeof joinRoom>>;
    try {
      remote = await joinRoom(url, { tokenFile: values['token-file'], token: ctx.env.token, ca: values.ca });
    } catch (err) {
      throw new UserError(messageOf(err));
    }
    plan = serverPlan(remote.planText, url, values, { cacheDir: planCacheDir(ctx.env) });
    store = remote;
    source = `${url} as ${remote.you?.name ?? '?'}`;
    // The connection's state and the age of the last update, on the wall as in `canary join`.
    link = joinedLine(remote, url);
    stop = () => remote.close();
  } else {
    const w = await buildRuntime({ ...values, 'no-journal': values['no-journal'] ?? values.journal === undefined }, ctx.env, { speed: 3600, notifyEveryMs: 250 });
    w.runtime.start();
    plan = w.plan;
    store = w.runtime;
    source = 'embedded simulated world';
    speed = () => w.clock.speed;
    stop = () => w.close();
  }
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  const wallView = await startWall({ plan, store, output: ctx.out as unknown as import('../../../components/Wall.js').WallOutput, input: process.stdin, source, ...(link ? { link } : {}), ...(speed ? { speed } : {}), onQuit: () => done() });
  process.on('SIGTERM', () => done());
  process.on('SIGINT', () => done());
  await finished;
  wallView.destroy();
  await stop();
  return 0;
}
