// Programs in a pseudo-terminal for the bench (util-linux `script`), as a person runs them, and
// only the processes the bench started: `script` is our child; the program is found as a
// descendant of that PID (/proc/<pid>/task/<tid>/children), never by a name pattern, and
// stopped by PID: its descendants, then the process group we created (detached: a group of its own).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const hasScript = spawnSync('script', ['--version']).status === 0;
const HZ = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

export interface Term {
  child: ChildProcess;
  /** Everything written to the terminal so far. */
  out(): string;
  /** The PID of the program itself (a descendant of `script` whose command line has `marker`). */
  programPid(marker: string): number | null;
  /** Stops `script` and everything it started (its own process group). */
  stop(): void;
}

/** Runs `argv` (argv[0] an executable path) in a 120x40 pseudo-terminal. */
export function inTerminal(argv: string[], env: NodeJS.ProcessEnv, opts: { cols?: number; rows?: number; cwd?: string } = {}): Term {
  const cmd = argv.map((a) => JSON.stringify(a)).join(' ');
  const child = hasScript
    ? spawn('script', ['-qfec', `stty cols ${opts.cols ?? 120} rows ${opts.rows ?? 40}; exec ${cmd}`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true, ...(opts.cwd ? { cwd: opts.cwd } : {}) })
    : spawn(argv[0]!, argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  child.on('error', () => undefined);
  let stopped = false;
  return {
    child,
    out: () => out,
    programPid(marker) {
      const seen = new Set<number>();
      const walk = (pid: number): number | null => {
        if (seen.has(pid)) return null;
        seen.add(pid);
        try {
          const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
          if (pid !== child.pid && cmdline.includes(marker)) return pid;
        } catch {
          return null;
        }
        for (const kid of childrenOf(pid)) {
          const found = walk(kid);
          if (found) return found;
        }
        return null;
      };
      return child.pid ? walk(child.pid) : null;
    },
    stop() {
      if (stopped || !child.pid) return;
      stopped = true;
      // `script` puts the program in a session of its own (the pseudo-terminal's): stop every
      // descendant of our `script` by PID, then `script`'s own process group.
      const all: number[] = [];
      const collect = (pid: number) => {
        for (const kid of childrenOf(pid)) {
          all.push(kid);
          collect(kid);
        }
      };
      collect(child.pid);
      for (const pid of [...all.reverse(), -child.pid]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
  };
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // exited
  }
  return out;
}

/** CPU seconds (user + system) a process has used so far: the sum over its threads of the time
 * each spent on a CPU (/proc/<pid>/task/<tid>/schedstat, in nanoseconds); /proc/<pid>/stat counts
 * in clock ticks of 10 ms, too coarse for an idle process over 20 s (0.05% a tick). Threads that
 * ended are not counted. */
export function cpuSeconds(pid: number): number {
  let ns = 0;
  let read = false;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      read = true;
    } catch {
      // the thread ended
    }
  }
  if (read) return ns / 1e9;
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / HZ;
}

export async function waitFor(cond: () => boolean, what: string, ms: number, term?: Term): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`${what}: not after ${ms} ms${term ? `; the terminal showed:\n${term.out().slice(-1500)}` : ''}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now() - t0;
}

/** Process start to the first output containing every one of `titles` (ms). */
export async function timeToScreen(argv: string[], env: NodeJS.ProcessEnv, titles: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<number> {
  const t0 = performance.now();
  const term = inTerminal(argv, env, opts);
  try {
    await waitFor(() => titles.every((t) => term.out().includes(t)), `${argv.join(' ')}: a screen with ${titles.join(', ')}`, opts.timeoutMs ?? 15_000, term);
    return performance.now() - t0;
  } finally {
    term.stop();
  }
}

/** Percent of a core the program used over `ms` after `settleMs` of running. */
export async function idleCpuPercent(argv: string[], env: NodeJS.ProcessEnv, marker: string, settleMs: number, ms: number): Promise<number> {
  const term = inTerminal(argv, env);
  try {
    await new Promise((r) => setTimeout(r, settleMs));
    const pid = term.programPid(marker);
    if (!pid) throw new Error(`${marker}: its process was not found under the terminal we started; it showed:\n${term.out().slice(-1500)}`);
    const a = cpuSeconds(pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    const b = cpuSeconds(pid);
    return ((b - a) * 1000 * 100) / (performance.now() - t0);
  } finally {
    term.stop();
  }
}
