// A real, private Prometheus for integration tests: a temp config scraping the given targets every
// second, a temp TSDB, a free loopback port, and a bounded wait for /-/ready. Never the system
// Prometheus Debian's package may run on :9090: always a process of our own on a port of our own.
//
// Missing binary: with CI set, an error saying how to install it (a missing server in CI is a
// failure, never a skip); locally, null so that tests can skip.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface PrometheusOptions {
  /** host:port of each target, scraped at /metrics by the job `canary-sim`. */
  scrapeTargets: string[];
  /** Scrape and rule evaluation interval in seconds (default 1). */
  scrapeIntervalS?: number;
  /** Bound on the wait for /-/ready in ms (default 20 000). */
  readyTimeoutMs?: number;
}

export interface PrometheusHandle {
  /** http://127.0.0.1:port (no trailing slash). */
  url: string;
  /** How long the server took from spawn to ready (ms). */
  startupMs: number;
  /** Kills the server (SIGTERM, then SIGKILL after 5 s) and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

export const PROMETHEUS_JOB = 'canary-sim';
const STDERR_KEEP = 16_384;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The prometheus binary: $PROMETHEUS_BIN when set (and then only it), else /usr/bin/prometheus,
 * else `prometheus` on PATH; null if none is executable.
 */
export function prometheusBinary(): string | null {
  const forced = process.env.PROMETHEUS_BIN;
  if (forced) return executable(forced) ? forced : null;
  const candidates = ['/usr/bin/prometheus', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'prometheus'))];
  for (const c of candidates) if (executable(c)) return c;
  return null;
}

/** A free loopback TCP port: bind port 0, read it, close. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function configYaml(targets: string[], intervalS: number): string {
  // JSON strings are valid YAML scalars: no quoting surprises in target names.
  const list = targets.map((t) => JSON.stringify(t)).join(', ');
  return [
    'global:',
    `  scrape_interval: ${intervalS}s`,
    `  scrape_timeout: ${intervalS}s`,
    `  evaluation_interval: ${intervalS}s`,
    'scrape_configs:',
    `  - job_name: ${PROMETHEUS_JOB}`,
    '    metrics_path: /metrics',
    '    static_configs:',
    `      - targets: [${list}]`,
    '',
  ].join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts a private Prometheus scraping `scrapeTargets`; resolves once /-/ready answers 200.
 * Null when the binary is missing and CI is not set; throws in CI when it is missing.
 */
export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusHandle | null> {
  const bin = prometheusBinary();
  if (bin === null) {
    if (process.env.CI)
      throw new Error(
        'prometheus is not installed, and CI is set: the Prometheus integration tests need a real server. ' +
          'Install it with `apt-get install -y prometheus` (Debian/Ubuntu; any 2.x on PATH or at $PROMETHEUS_BIN works).',
      );
    return null;
  }
  const intervalS = opts.scrapeIntervalS ?? 1;
  if (!(intervalS > 0)) throw new Error(`startPrometheus: scrapeIntervalS must be > 0, got ${intervalS}`);
  if (opts.scrapeTargets.length === 0) throw new Error('startPrometheus: no scrape target');
  const readyTimeoutMs = opts.readyTimeoutMs ?? 20_000;

  const dir = mkdtempSync(join(tmpdir(), 'canary-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, configYaml(opts.scrapeTargets, intervalS));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;

  const began = performance.now();
  const child = spawn(
    bin,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-STDERR_KEEP);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | null = null;
  child.once('error', (err) => {
    spawnError = err;
  });
  // If the test process dies without calling stop(), do not leave the server behind.
  const onExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', onExit);

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.off('exit', onExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killed = await Promise.race([exited(child).then(() => true), sleep(5_000).then(() => false)]);
        if (!killed) {
          child.kill('SIGKILL');
          await exited(child);
        }
      }
      rmSync(dir, { recursive: true, force: true });
    })());

  const details = () => `${bin} on ${url}` + (output.trim() ? `; its output:\n${output.trim()}` : ' (no output)');
  const deadline = began + readyTimeoutMs;
  for (;;) {
    if (spawnError) {
      await stop();
      throw new Error(`prometheus failed to start (${(spawnError as Error).message}): ${details()}`);
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`prometheus exited (${child.exitCode ?? child.signalCode}) before it was ready: ${details()}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready within ${readyTimeoutMs} ms: ${details()}`);
    }
    await sleep(100);
  }
  return { url, startupMs: Math.round(performance.now() - began), stop };
}
