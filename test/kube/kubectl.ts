// Running the installed kubectl against a test API server: asynchronously (the server lives in the
// same process, so a blocking execFileSync would deadlock it), with a private discovery cache and a
// bound on time. Missing kubectl: with CI set an error saying so (a failure, never a skip); locally
// kubectlBinary() is null so that tests can skip.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export function kubectlBinary(): string | null {
  const forced = process.env.KUBECTL_BIN;
  const candidates = forced ? [forced] : [...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'kubectl')), '/usr/bin/kubectl'];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return null;
}

function binary(): string {
  const bin = kubectlBinary();
  if (!bin) throw new Error('kubectl is not installed (the CI machine image has it at /usr/bin/kubectl; set KUBECTL_BIN to use another)');
  return bin;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlContext {
  kubeconfig: string;
  /** Discovery cache: one per server, so a CRD installed or removed mid-test is seen. */
  cacheDir: string;
}

/** A fresh discovery cache directory. */
export function kubectlCacheDir(): string {
  return mkdtempSync(join(tmpdir(), 'canary-kubectl-cache-'));
}

/** Runs kubectl to completion (bounded: 30 s by default). */
export function kubectl(ctx: KubectlContext, args: string[], timeoutMs = 30_000): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    execFile(
      binary(),
      ['--kubeconfig', ctx.kubeconfig, '--cache-dir', ctx.cacheDir, ...args],
      { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, KUBECTL_EXTERNAL_DIFF: '' } },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return reject(new Error(`kubectl ${args.join(' ')}: ${err.message}\n${stderr}`));
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
  });
}

/**
 * Splits a stream of concatenated JSON documents (what `kubectl get -w -o json` prints) into
 * values as they complete.
 */
export class JsonStreamSplitter {
  private buf = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;

  push(chunk: string, emit: (value: unknown) => void): void {
    const base = this.buf.length;
    this.buf += chunk;
    for (let i = base; i < this.buf.length; i++) {
      const ch = this.buf[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === '\\') this.escaped = true;
        else if (ch === '"') this.inString = false;
        continue;
      }
      if (ch === '"') this.inString = true;
      else if (ch === '{') {
        if (this.depth === 0) this.start = i;
        this.depth++;
      } else if (ch === '}') {
        this.depth--;
        if (this.depth === 0 && this.start >= 0) {
          emit(JSON.parse(this.buf.slice(this.start, i + 1)));
          this.start = -1;
        }
      }
    }
    if (this.depth === 0) this.buf = '';
    else if (this.start > 0) {
      this.buf = this.buf.slice(this.start);
      this.start = 0;
    }
  }
}

export interface KubectlStream {
  child: ChildProcess;
  /** Every JSON document printed so far. */
  docs: unknown[];
  stderr: () => string;
  /** Resolves when `pred` holds for the documents (rejects after timeoutMs). */
  until(pred: (docs: unknown[]) => boolean, timeoutMs?: number): Promise<void>;
  stop(): void;
}

/** Starts a long-running kubectl (e.g. `get pods -w --output-watch-events -o json`) and collects its JSON output. */
export function kubectlStream(ctx: KubectlContext, args: string[]): KubectlStream {
  const child = spawn(binary(), ['--kubeconfig', ctx.kubeconfig, '--cache-dir', ctx.cacheDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const docs: unknown[] = [];
  let err = '';
  const waiters: { pred: (d: unknown[]) => boolean; resolve: () => void }[] = [];
  const split = new JsonStreamSplitter();
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) =>
    split.push(c, (v) => {
      docs.push(v);
      for (const w of [...waiters]) if (w.pred(docs)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }),
  );
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => (err += c));
  return {
    child,
    docs,
    stderr: () => err,
    until(pred, timeoutMs = 15_000) {
      if (pred(docs)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`kubectl ${args.join(' ')}: condition not met in ${timeoutMs} ms; got ${JSON.stringify(docs).slice(0, 2000)}; stderr: ${err}`)), timeoutMs);
        waiters.push({ pred, resolve: () => (clearTimeout(t), resolve()) });
      });
    },
    stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}
