// Notifications in the benchmark: what a dispatch that produces notify effects costs while the
// receiver is dead (accepts, never answers: delivery must never be on the dispatch path), and how
// long a delivery to a live receiver on 127.0.0.1 takes from dispatch to its notify.result event.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Plan } from '../src/plan/schema.js';
import { NotifyChannel } from '../src/plan/schema.js';
import { ChannelNotifier } from '../src/actuators/notifier.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { TrafficActuator } from '../src/runtime/ports.js';
import { ManualClock } from '../src/sim/clock.js';

const traffic: TrafficActuator = { name: 'bench', setWeight: async (w) => ({ weight: w, detail: 'ok' }), rollback: async () => ({ weight: 0, detail: 'ok' }) };

async function listen(answer: boolean): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (answer) res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function notifyBench(plan: Plan, t0: number): Promise<{ dispatchDeadUs: number; deliveryMs: number }> {
  const dead = await listen(false);
  const live = await listen(true);
  const channels = (url: string) => [NotifyChannel.parse({ name: 'a', type: 'webhook', urlEnv: 'U', timeout: '2s', retries: 0 }), NotifyChannel.parse({ name: 'b', type: 'slack', urlEnv: 'U', timeout: '2s', retries: 0 })].map((c) => ({ c, url }));
  try {
    // 1. dispatch cost with a dead receiver: each declaration makes 2 notify effects (incident +
    //    first escalation step) for 2 channels.
    const n1 = new ChannelNotifier({ plan, channels: channels(dead.url).map((x) => x.c), env: { U: dead.url }, queueLimit: 50 });
    const clock = new ManualClock(t0);
    const rt = new Runtime({ plan, clock, traffic, notifier: n1, tickMs: 0 });
    const per: number[] = [];
    for (let i = 0; i < 300; i++) {
      const s = performance.now();
      rt.dispatch({ type: 'command', at: clock.advance(1000), actor: { id: 'bench', name: 'bench' }, command: { kind: 'declare-incident', severity: 'P0', summary: `bench ${i}` } });
      per.push((performance.now() - s) * 1000);
    }
    n1.close();
    await rt.stop();
    // 2. delivery latency to a live receiver: dispatch -> notify.result (ok) event.
    const n2 = new ChannelNotifier({ plan, channels: [channels(live.url)[0]!.c], env: { U: live.url } });
    const rt2 = new Runtime({ plan, clock, traffic, notifier: n2, tickMs: 0 });
    const lat: number[] = [];
    for (let i = 0; i < 50; i++) {
      const before = rt2.getState().notifications.delivered;
      const s = performance.now();
      rt2.dispatch({ type: 'command', at: clock.advance(1000), actor: { id: 'bench', name: 'bench' }, command: { kind: 'declare-incident', severity: 'P2', summary: `bench ${i}` } });
      // P2 declaration: incident + first step = 2 deliveries
      while (rt2.getState().notifications.delivered < before + 2) await new Promise((r) => setImmediate(r));
      lat.push(performance.now() - s);
    }
    n2.close();
    await rt2.stop();
    return { dispatchDeadUs: median(per), deliveryMs: median(lat) };
  } finally {
    for (const s of [dead.server, live.server]) {
      s.closeAllConnections();
      s.close();
    }
  }
}
