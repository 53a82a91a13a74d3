// One writer per journal: `<journal>.lock` holds the writer's pid; a lock whose process is gone is
// taken over. And where journals go by default.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Plan } from '../plan/schema.js';

/** An exclusive lock next to the journal (`<journal>.lock`, holding our pid). A lock whose process
 * is gone is taken over. */
export function lockJournal(path: string): { ok: true; release: () => void } | { ok: false; holder: string } {
  const lock = `${path}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      const release = () => {
        try {
          if (readFileSync(lock, 'utf8').trim() === String(process.pid)) rmSync(lock);
        } catch {
          /* gone already */
        }
      };
      process.once('exit', release);
      return { ok: true, release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(lock, 'utf8').trim());
      let alive = false;
      try {
        process.kill(pid, 0);
        alive = pid > 0;
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === 'EPERM';
      }
      if (alive) return { ok: false, holder: `canary pid ${pid}` };
      rmSync(lock, { force: true }); // stale: its process is gone
    }
  }
  return { ok: false, holder: 'another canary (lock file could not be taken)' };
}

/** <stateHome>/canary: <plan>.jsonl for a live rollout, <plan>-sim-<time>.jsonl for a run on the
 * simulated world (never resumed by default). */
export function defaultJournalPath(plan: Plan, live: boolean, stateHome: string): string {
  const name = live ? `${plan.metadata.name}.jsonl` : `${plan.metadata.name}-sim-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`;
  return join(stateHome, 'canary', name);
}
