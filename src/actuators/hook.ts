// The plan's rollback hook, run. A module of its own (not kube-traffic.ts, which uses it): the
// embedded world's rollback runs the hook's stand-in too, and must not load the Kubernetes client
// (https, readline) on the way to the console's first frame.
import { describeExit, execCommand, secretsOf } from './exec.js';
import { processVars } from '../env.js';

export interface RollbackHook {
  command: string;
  env: Record<string, string>;
  timeoutMs?: number;
  cwd?: string;
  secretEnv?: string[];
  /** The environment it starts from (CanaryEnv.vars; default: the process's, src/env.ts). */
  base?: Readonly<Record<string, string | undefined>>;
}

/** Runs the plan's rollback hook with ${VAR} from `env` and the reason; never through a shell
 * string built from the reason (it is passed as an environment variable). Runs like every hook
 * (exec.ts): own process group, timeout, output scrubbed; the exit code is in the detail. */
export async function runHook(h: RollbackHook, reason: string, onLine?: (line: string) => void): Promise<string> {
  const env = { ...(h.base ?? processVars()), ...h.env, ROLLBACK_REASON: reason };
  const timeoutMs = h.timeoutMs ?? 120_000;
  const r = await execCommand({ command: h.command, env, timeoutMs, ...(h.cwd ? { cwd: h.cwd } : {}), secrets: secretsOf(env, h.secretEnv), keep: 50, ...(onLine ? { onLine } : {}) });
  const out = r.lines.filter((l) => l.trim()).slice(-1)[0]?.trim() ?? '';
  if (r.code === 0) return `rollback hook ran${out ? `: ${out}` : ''}`;
  return `rollback hook failed (${describeExit(r, timeoutMs)}): ${out || r.error || ''}`.replace(/: $/, '');
}
