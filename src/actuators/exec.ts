// Running a command the way every hook in canary runs one: its own process group (a timeout or a
// stop kills the hook's children too), a timeout, output captured line by line and handed on as it
// arrives, secrets scrubbed from every line before anyone sees it, and an exit that is always
// reported (never a rejection). The notifier's command channel, the rollback hook and the runbook's
// commands (deploy steps, validation, rollback verification, checklist checks, flag hooks) all run
// through `execCommand`.
import { spawn } from 'node:child_process';
import { processVars } from '../env.js';

export interface ExecOptions {
  /** A string runs through /bin/sh -c (plan commands: ${VAR} comes from `env`, never pasted in);
   * an array is argv, run without a shell (notifier command hooks). */
  command: string | string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs: number;
  /** Written to stdin, then stdin is closed (default: closed at once). */
  stdin?: string;
  /** Values scrubbed from every line and from the result (URLs, tokens). Shorter than 4 chars: ignored. */
  secrets?: readonly string[];
  /** Each line of output as it arrives, scrubbed. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Lines kept for the result (the last ones; default 200). */
  keep?: number;
  /** 'ignore': stdout is not read (a notify hook's stdout is of no interest). */
  stdout?: 'pipe' | 'ignore';
  /** Aborting kills the process group; the result says `stopped`. */
  signal?: AbortSignal;
}

export interface ExecResult {
  /** Exit code; null when killed by a signal or it never started. */
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  stopped: boolean;
  /** It could not be started (ENOENT, EACCES...). */
  error?: string;
  /** The last `keep` lines of stdout and stderr, interleaved as they came, scrubbed. */
  lines: string[];
  /** The start of stderr (2,000 chars), scrubbed: the first line is usually the reason. */
  stderr: string;
  durationMs: number;
}

/** Every secret replaced by ***. */
export function scrub(text: string, secrets: readonly string[] | undefined): string {
  let out = text;
  for (const s of secrets ?? []) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}

/** The values of `names` in `env`, and of any variable whose name says it is a secret. */
export function secretsOf(env: NodeJS.ProcessEnv, names: readonly string[] = []): string[] {
  const out = new Set<string>();
  for (const n of names) if (env[n]) out.add(env[n]!);
  for (const [k, v] of Object.entries(env)) if (v && v.length >= 8 && /(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY|WEBHOOK_URL)/.test(k)) out.add(v);
  return [...out];
}

/** "exited 0", "exited 3", "killed by SIGTERM", "no exit after 300 ms (killed)", "could not start: ...". */
export function describeExit(r: ExecResult, timeoutMs?: number): string {
  if (r.error) return `could not start: ${r.error}`;
  if (r.timedOut) return `no exit after ${timeoutMs ?? r.durationMs} ms (killed)`;
  if (r.stopped) return 'stopped (killed)';
  if (r.code !== null) return `exited ${r.code}`;
  return `killed by ${r.signal ?? 'a signal'}`;
}

export function execCommand(o: ExecOptions): Promise<ExecResult> {
  const started = performance.now();
  const keep = o.keep ?? 200;
  const lines: string[] = [];
  let stderr = '';
  const [file, args] = typeof o.command === 'string' ? ['/bin/sh', ['-c', o.command]] : [o.command[0]!, o.command.slice(1)];
  return new Promise((resolve) => {
    let settled = false;
    let timedOut = false;
    let stopped = false;
    const partial = { stdout: '', stderr: '' };
    const push = (line: string, stream: 'stdout' | 'stderr') => {
      const clean = scrub(line.replace(/\r$/, ''), o.secrets);
      lines.push(clean);
      if (lines.length > keep) lines.splice(0, lines.length - keep);
      try {
        o.onLine?.(clean, stream);
      } catch {
        // a listener's failure is not the command's
      }
    };
    const feed = (stream: 'stdout' | 'stderr', chunk: Buffer) => {
      const text = partial[stream] + chunk.toString();
      const parts = text.split('\n');
      partial[stream] = parts.pop() ?? '';
      // A line that never ends (a progress bar) is cut at 4 KiB so memory stays bounded.
      if (partial[stream].length > 4096) {
        parts.push(partial[stream]);
        partial[stream] = '';
      }
      for (const l of parts) push(l, stream);
    };
    const flush = () => {
      for (const s of ['stdout', 'stderr'] as const) if (partial[s]) push(partial[s], s), (partial[s] = '');
    };
    let child: ReturnType<typeof spawn>;
    try {
      // Its own process group: on timeout or stop the whole group goes (a hook's own children
      // too, which would otherwise hold the pipes open and the step "running" forever).
      child = spawn(file, args, { stdio: ['pipe', o.stdout === 'ignore' ? 'ignore' : 'pipe', 'pipe'], detached: true, ...(o.cwd ? { cwd: o.cwd } : {}), env: o.env ?? (processVars() as NodeJS.ProcessEnv) });
    } catch (err) {
      resolve({ code: null, signal: null, timedOut: false, stopped: false, error: scrub(err instanceof Error ? err.message : String(err), o.secrets), lines, stderr, durationMs: 0 });
      return;
    }
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const settle = (r: Omit<ExecResult, 'lines' | 'stderr' | 'durationMs' | 'timedOut' | 'stopped'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      flush();
      resolve({ ...r, timedOut, stopped, lines, stderr: scrub(stderr, o.secrets), durationMs: performance.now() - started });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
      child.stdout?.destroy();
      child.stderr?.destroy();
      settle({ code: null, signal: 'SIGKILL' });
    }, o.timeoutMs);
    const onAbort = () => {
      stopped = true;
      killGroup();
      child.stdout?.destroy();
      child.stderr?.destroy();
      settle({ code: null, signal: 'SIGKILL' });
    };
    if (o.signal?.aborted) queueMicrotask(onAbort);
    else o.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout?.on('data', (d: Buffer) => feed('stdout', d));
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 2_000) stderr += d.toString();
      feed('stderr', d);
    });
    child.on('error', (err) => settle({ code: null, signal: null, error: scrub(err.message, o.secrets) }));
    // 'close' (pipes read to the end) normally; but a grandchild holding a pipe open must not keep
    // the step open: 200 ms after 'exit' it settles anyway.
    child.on('close', (code, signal) => settle({ code, signal }));
    child.on('exit', (code, signal) => setTimeout(() => settle({ code, signal }), 200).unref());
    child.stdin!.on('error', () => undefined); // a command that does not read stdin is fine
    child.stdin!.end(o.stdin ?? '');
  });
}
