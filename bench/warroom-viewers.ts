// Worker thread for bench/warroom.tsx: joined viewers (RemoteStore, as `canary join` uses), each
// applying every patch. Reports, per sequence number, when the last of them received it (the
// message event, before parsing) and when the last of them had applied it.
import { parentPort, workerData } from 'node:worker_threads';
import { RemoteStore } from '../src/warroom/client.js';

const { url, tokens } = workerData as { url: string; tokens: string[] };
const now = () => performance.timeOrigin + performance.now();
const received = new Map<number, number>();
const applied = new Map<number, number>();
const count = new Map<number, number>();
const applyUs: number[] = [];
const stores = tokens.map((token) => new RemoteStore({ url, token, timeoutMs: 30_000 }));
const SEQ = /^\{"t":"u","seq":(\d+),/;
for (const s of stores) {
  let t0 = 0;
  s.onReceive = (text) => {
    t0 = now();
    const m = SEQ.exec(text);
    if (m) received.set(Number(m[1]), Math.max(received.get(Number(m[1])) ?? 0, t0));
  };
  s.onSeq = (seq) => {
    const t = now();
    applyUs.push((t - t0) * 1000);
    applied.set(seq, Math.max(applied.get(seq) ?? 0, t));
    count.set(seq, (count.get(seq) ?? 0) + 1);
  };
}
await Promise.all(stores.map((s) => s.start()));
applyUs.length = 0; // snapshots are not updates
parentPort!.postMessage({ type: 'ready' });
parentPort!.on('message', (m: { type: string; until: number }) => {
  if (m.type !== 'collect') return;
  const check = () => {
    if ((count.get(m.until) ?? 0) < stores.length) return setTimeout(check, 5);
    const gaps = stores.reduce((a, s) => a + s.stats.gaps, 0);
    parentPort!.postMessage({ type: 'result', received: [...received], applied: [...applied], applyUs, gaps });
    for (const s of stores) s.close();
  };
  check();
});
