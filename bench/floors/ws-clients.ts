// Worker thread for the war room's floor (bench/warroom.tsx): bare `ws` clients, as many as the
// viewers, doing nothing with a message but noting when it arrived (per sequence number, the
// latest of this thread's clients).
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

const { url, clients } = workerData as { url: string; clients: number };
const now = () => performance.timeOrigin + performance.now();
const received = new Map<number, number>();
const count = new Map<number, number>();
const SEQ = /^\{"t":"u","seq":(\d+),/;
const sockets = await Promise.all(
  Array.from(
    { length: clients },
    () =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.on('message', (data: Buffer) => {
          const m = SEQ.exec(data.toString());
          if (!m) return;
          const seq = Number(m[1]);
          received.set(seq, Math.max(received.get(seq) ?? 0, now()));
          count.set(seq, (count.get(seq) ?? 0) + 1);
        });
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      }),
  ),
);
parentPort!.postMessage({ type: 'ready' });
parentPort!.on('message', (m: { type: string; until: number }) => {
  if (m.type !== 'collect') return;
  const check = () => {
    if ((count.get(m.until) ?? 0) < sockets.length) return setTimeout(check, 5);
    parentPort!.postMessage({ type: 'result', received: [...received] });
    for (const s of sockets) s.close();
  };
  check();
});
