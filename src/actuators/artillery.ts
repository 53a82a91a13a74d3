// Artillery scripts, as the seed runs them: `artillery run <script> --target <t> --output <json>`
// in a child process. Its intermediate reports (every 10 s on stdout) become progress, and its
// JSON report (--output) becomes the summary. canary passes the plan's target with --target and
// refuses a script that names any other origin, so load never goes where the plan does not say.
import { processVars } from '../env.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { LoadTest, Plan } from '../plan/schema.js';
import { parseDuration } from '../plan/schema.js';
import { hostHeaderRefusal, targetRefusal } from '../plan/loadtests.js';
import type { LoadProgress, LoadSummary } from '../engine/types.js';
import type { EngineRun } from './autocannon.js';

/** The last artillery release whose engines field admits Node 20 (2.0.22 and later need >= 22.13). */
export const ARTILLERY_FOR_NODE20 = '2.0.21';
export const ARTILLERY_INSTALL_HINT = `npm install -g --ignore-scripts artillery@${ARTILLERY_FOR_NODE20} (the last release for Node 20; --ignore-scripts skips its Playwright browser download), or set CANARY_ARTILLERY to its executable, or give the test engine: autocannon`;

/** $CANARY_ARTILLERY, else `artillery` on PATH; null when neither is there. */
export function findArtillery(env: Readonly<Record<string, string | undefined>> = processVars()): string | null {
  const explicit = env.CANARY_ARTILLERY;
  if (explicit) return isExecutable(explicit) ? explicit : null;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'artillery');
    if (isExecutable(p)) return p;
  }
  return null;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const URL_RE = /\b(?:https?|wss?):\/\/[^\s"'`<>]+/g;
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];
/** Script features that can send load somewhere canary cannot see: JavaScript hooks (a processor
 * can rewrite any URL), plugins, engines other than http/ws, payload files, environments that
 * swap the target, and proxies. */
const REFUSED_CONFIG = ['processor', 'plugins', 'payload', 'environments', 'engines', 'includeFiles'];

type Raw = Record<string, unknown>;

/** What in an artillery script could aim load elsewhere than the plan allows, checked on the
 * parsed YAML (escapes and line continuations are undone by the parser, not by a regex):
 * - every string that holds an absolute URL must be an allowed origin;
 * - every request URL must be a path (`/…`) whose host part no template can change;
 * - no processor, plugins, payload, environments, engines or proxy;
 * - a Host header must name the target's host.
 * Returns the problems and, when there are none, the script with `followRedirect: false` on every
 * request (a redirect from an allowed target must not take the load elsewhere). */
export function checkScript(plan: Pick<Plan, 'loadTargets'>, target: string, text: string): { problems: string[]; script: Raw | null } {
  const problems = new Set<string>();
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return { problems: [`not YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`], script: null };
  }
  if (!doc || typeof doc !== 'object') return { problems: ['not an artillery script (no config/scenarios)'], script: null };
  const script = doc as Raw;
  const config = (script.config ?? {}) as Raw;
  for (const k of REFUSED_CONFIG) if (config[k] !== undefined) problems.add(`config.${k} is not allowed (it can send load where canary cannot check)`);
  const http = (config.http ?? {}) as Raw;
  if (http.proxy !== undefined) problems.add('config.http.proxy is not allowed');
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(URL_RE)) {
        const url = m[0].replace(/[),.;]+$/, '');
        if (targetRefusal(plan, url)) problems.add(`${path}: ${url} is not loopback or in loadTargets`);
      }
      return;
    }
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${path}[${i}]`));
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v as Raw)) {
      if (k.toLowerCase() === 'headers' && x && typeof x === 'object')
        for (const [h, hv] of Object.entries(x as Raw)) {
          const bad = hostHeaderRefusal(plan, target, h, hv);
          if (bad) problems.add(`${path}.${k}: ${bad}`);
        }
      walk(x, `${path}.${k}`);
    }
  };
  walk(script, 'script');
  const flows = (section: unknown, name: string) => {
    const list = Array.isArray(section) ? section : [];
    list.forEach((sc: unknown, i) => {
      const scenario = (sc ?? {}) as Raw;
      if (scenario.engine !== undefined && scenario.engine !== 'http' && scenario.engine !== 'ws') problems.add(`${name}[${i}].engine ${String(scenario.engine)} is not allowed (http or ws)`);
      requests(scenario.flow, `${name}[${i}].flow`);
    });
  };
  const requests = (flow: unknown, path: string): void => {
    if (!Array.isArray(flow)) return;
    flow.forEach((step: unknown, i) => {
      if (!step || typeof step !== 'object') return;
      for (const [k, v] of Object.entries(step as Raw)) {
        if (k === 'loop' || k === 'parallel') requests(Array.isArray(v) ? v : (v as Raw)?.steps ?? v, `${path}[${i}].${k}`);
        if (!METHODS.includes(k) || !v || typeof v !== 'object') continue;
        const req = v as Raw;
        const url = String(req.url ?? '');
        const absolute = /^[a-z][a-z0-9+.-]*:/i.test(url);
        if (absolute) {
          if (targetRefusal(plan, url) || url.includes('{{')) problems.add(`${path}[${i}].${k}.url ${url}: an absolute URL must be a fixed, allowed origin; use a path`);
        } else if (!url.startsWith('/')) problems.add(`${path}[${i}].${k}.url "${url}" must be a path starting with / (the host comes from --target)`);
        req.followRedirect = false;
      }
    });
  };
  flows(script.scenarios, 'scenarios');
  requests((script.before as Raw | undefined)?.flow, 'before.flow');
  requests((script.after as Raw | undefined)?.flow, 'after.flow');
  return { problems: [...problems], script: problems.size ? null : script };
}

/** Artillery's text report lines: `http.codes.200: ......... 15`, `http.response_time:`, `  p95: ... 13.1`. */
export class ArtilleryTextParser {
  /** Counters summed over the intermediate periods seen so far. */
  readonly counters: Record<string, number> = {};
  latest: { p50: number; p95: number; p99: number } | null = null;
  rps = 0;
  private section: 'period' | 'summary' | 'none' = 'none';
  private summaryName: string | null = null;
  private stats: Record<string, number> = {};

  line(raw: string): void {
    const line = raw.replace(/\x1b\[[0-9;]*m/g, '').replace(/\s+$/, '');
    if (/^Metrics for period to:/.test(line)) {
      this.section = 'period';
      return;
    }
    if (/^Summary report @/.test(line)) {
      this.section = 'summary';
      return;
    }
    if (this.section !== 'period') return;
    let m = /^([\w.\-/]+):\s\.+\s([\d.]+)(\/sec)?$/.exec(line);
    if (m) {
      this.summaryName = null;
      const v = Number(m[2]);
      if (m[3]) {
        if (m[1] === 'http.request_rate') this.rps = v;
      } else this.counters[m[1]!] = (this.counters[m[1]!] ?? 0) + v;
      return;
    }
    m = /^([\w.\-/]+):$/.exec(line);
    if (m) {
      this.summaryName = m[1]!;
      this.stats = {};
      return;
    }
    m = /^\s+(min|max|mean|median|p50|p95|p99):\s\.+\s([\d.]+)$/.exec(line);
    if (m && this.summaryName === 'http.response_time') {
      this.stats[m[1]!] = Number(m[2]);
      const p50 = this.stats.median ?? this.stats.p50;
      if (p50 !== undefined && this.stats.p95 !== undefined && this.stats.p99 !== undefined) this.latest = { p50, p95: this.stats.p95, p99: this.stats.p99 };
    }
  }

  /** Figures as the live pane wants them. */
  figures(): { requests: number; byStatus: Record<string, number>; errors: number } {
    return figuresFromCounters(this.counters);
  }
}

function figuresFromCounters(counters: Record<string, number>): { requests: number; byStatus: Record<string, number>; errors: number } {
  const byStatus: Record<string, number> = {};
  let errors = 0;
  let responses = 0;
  for (const [k, v] of Object.entries(counters)) {
    const code = /^http\.codes\.(\d{3})$/.exec(k);
    if (code) {
      byStatus[code[1]!] = v;
      responses += v;
      if (Number(code[1]) >= 400) errors += v;
    } else if (/^errors\./.test(k)) {
      const key = /ETIMEDOUT|timeout/i.test(k) ? 'timeouts' : 'errors';
      byStatus[key] = (byStatus[key] ?? 0) + v;
      errors += v;
    }
  }
  return { requests: counters['http.responses'] ?? responses, byStatus, errors };
}

/** artillery's JSON report (`--output`) as canary's summary. */
export function summaryFromReport(report: unknown, fallbackDurationMs: number): LoadSummary | null {
  const agg = (report as { aggregate?: { counters?: Record<string, number>; summaries?: Record<string, Record<string, number>>; firstMetricAt?: number; lastMetricAt?: number } } | null)?.aggregate;
  if (!agg || !agg.counters) return null;
  const f = figuresFromCounters(agg.counters);
  const rt = agg.summaries?.['http.response_time'];
  const span = agg.firstMetricAt && agg.lastMetricAt && agg.lastMetricAt > agg.firstMetricAt ? agg.lastMetricAt - agg.firstMetricAt : fallbackDurationMs;
  const durationMs = Math.max(1, span);
  return {
    requests: f.requests,
    durationMs,
    rps: (f.requests * 1000) / durationMs,
    latency: rt && rt.p95 !== undefined ? { p50: rt.median ?? rt.p50 ?? 0, p95: rt.p95, p99: rt.p99 ?? rt.p95, ...(rt.max !== undefined ? { max: rt.max } : {}) } : null,
    byStatus: f.byStatus,
    errors: f.errors,
  };
}

export interface ArtilleryOptions {
  plan: Plan;
  /** Where the report goes (`--output`). */
  reportFile: string;
  /** Directories a relative script path is looked up in, in order. */
  scriptDirs: string[];
  /** canary's environment (CanaryEnv.vars): PATH, $CANARY_ARTILLERY, the child's environment. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The executable (default: findArtillery(env)). */
  bin?: string | null;
  /** Seconds past the test's duration before the run is killed (artillery takes a few to start). */
  graceMs?: number;
}

export function startArtillery(test: LoadTest, opts: ArtilleryOptions, onProgress: (p: LoadProgress) => void): EngineRun {
  const durationMs = parseDuration(test.duration) ?? 0;
  const failed = (detail: string): EngineRun => ({ done: Promise.resolve({ outcome: 'failed', detail, summary: null }), stop: () => undefined });
  const bin = opts.bin === undefined ? findArtillery(opts.env) : opts.bin;
  if (!bin) return failed(`load test "${test.name}" needs artillery, which is not installed here: ${ARTILLERY_INSTALL_HINT}`);
  const script = test.script!;
  const scriptPath = isAbsolute(script) ? script : opts.scriptDirs.map((d) => resolve(d, script)).find((p) => existsSync(p));
  if (!scriptPath || !existsSync(scriptPath)) return failed(`load test "${test.name}": artillery script ${script} not found (looked in ${opts.scriptDirs.join(', ')})`);
  const checked = checkScript(opts.plan, test.target, readFileSync(scriptPath, 'utf8'));
  if (!checked.script)
    return failed(`load test "${test.name}": refused - ${scriptPath}: ${checked.problems.join('; ')} (canary passes the target with --target; load goes only to loopback or loadTargets)`);
  // Artillery runs the checked copy (followRedirect: false on every request), not the file.
  const runPath = `${opts.reportFile.replace(/\.json$/, '')}.script.yml`;
  writeFileSync(runPath, stringifyYaml(checked.script));

  const args = ['run', runPath, '--target', test.target, '--output', opts.reportFile];
  if (Object.keys(test.variables).length) args.push('--variables', JSON.stringify(test.variables));
  // The seed's --count/--rate: that many arrivals at that rate, within the test's duration.
  if (test.rate !== undefined) {
    const seconds = Math.max(1, Math.min(durationMs / 1000, test.count !== undefined ? Math.ceil(test.count / test.rate) : Infinity));
    args.push('--overrides', JSON.stringify({ config: { phases: [{ duration: seconds, arrivalRate: test.rate }] } }));
  }
  const started = Date.now();
  const parser = new ArtilleryTextParser();
  let child: ChildProcess;
  try {
    child = spawn(bin, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so a stop ends its workers too
      env: { ...(opts.env ?? processVars()), ARTILLERY_DISABLE_TELEMETRY: 'true', NO_COLOR: '1', FORCE_COLOR: '0' },
    });
  } catch (err) {
    return failed(`artillery (${bin}): ${err instanceof Error ? err.message : String(err)}`);
  }
  let stopped = false;
  let stderrTail = '';
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) parser.line(l);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-2_000);
  });
  const ticker = setInterval(() => {
    const f = parser.figures();
    onProgress({ elapsedMs: Date.now() - started, durationMs, requests: f.requests, rps: parser.rps, latency: parser.latest, byStatus: f.byStatus, errors: f.errors });
  }, 1000);
  ticker.unref();
  const killGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      /* already gone */
    }
  };
  // Its own process group does not end with canary: take it along when canary exits (Ctrl-C).
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);
  let killTimer: NodeJS.Timeout | null = null;
  const stop = () => {
    if (stopped || child.exitCode !== null) return;
    stopped = true;
    killGroup('SIGINT');
    // artillery finishes its in-flight requests on SIGINT; a second is all it gets.
    killTimer = setTimeout(() => killGroup('SIGKILL'), 500);
  };
  const graceMs = opts.graceMs ?? 30_000;
  const hard = setTimeout(stop, durationMs + graceMs);
  const done = new Promise<Awaited<EngineRun['done']>>((resolveDone) => {
    const end = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      clearInterval(ticker);
      clearTimeout(hard);
      process.off('exit', onExit);
      if (killTimer) clearTimeout(killTimer);
      const elapsed = Date.now() - started;
      const timedOut = stopped && elapsed >= durationMs + graceMs;
      if (spawnError) return resolveDone({ outcome: 'failed', detail: `artillery (${bin}): ${spawnError.message}`, summary: null });
      let report: unknown = null;
      if (!stopped && existsSync(opts.reportFile)) {
        try {
          report = JSON.parse(readFileSync(opts.reportFile, 'utf8'));
        } catch (err) {
          return resolveDone({ outcome: 'failed', detail: `artillery report ${opts.reportFile} is not JSON: ${String(err)}`, summary: null });
        }
      }
      const fromText = (): LoadSummary | null => {
        const f = parser.figures();
        return f.requests + f.errors > 0 ? { requests: f.requests, durationMs: Math.max(1, elapsed), rps: (f.requests * 1000) / Math.max(1, elapsed), latency: parser.latest, byStatus: f.byStatus, errors: f.errors } : null;
      };
      if (stopped)
        return resolveDone({
          outcome: timedOut ? 'failed' : 'stopped',
          detail: timedOut ? `artillery ran past ${test.duration} + ${graceMs / 1000} s and was stopped` : `stopped after ${(elapsed / 1000).toFixed(1)} s of ${test.duration} (figures from artillery's last 10 s reports)`,
          summary: fromText(),
        });
      if (code !== 0 || !report)
        return resolveDone({ outcome: 'failed', detail: `artillery exited ${signal ?? code}${report ? '' : ' without a report'}: ${stderrTail.trim().split('\n').slice(-3).join(' | ') || 'no output on stderr'}`, summary: summaryFromReport(report, elapsed) ?? fromText() });
      resolveDone({ outcome: 'completed', detail: `artillery run ${script} --target ${test.target}; report ${opts.reportFile}`, summary: summaryFromReport(report, elapsed), extra: { artilleryReport: opts.reportFile } });
    };
    child.on('error', (err) => end(null, null, err));
    child.on('close', (code, signal) => end(code, signal));
  });
  return { done, stop };
}
