// Notifications to the plan's channels: a generic JSON webhook, a Slack-compatible incoming
// webhook, and a command hook (the JSON on stdin). `notify` only queues and returns, so the
// runtime's dispatch never waits for a network; each channel has a bounded queue and one delivery
// at a time, with a timeout per attempt and retries with doubling backoff. Every outcome is
// reported back (the runtime turns it into a `notify.result` event, so failures show on screen).
// URLs and tokens come from environment variables the plan names and are never printed: they
// are scrubbed from every detail this module reports.
import { describeExit, execCommand } from './exec.js';
import type { NotifyChannel, Plan } from '../plan/schema.js';
import { parseDuration } from '../plan/duration.js';
import type { Notifier, NotifyEffect, NotifyReport } from '../runtime/ports.js';

const SEVERITY_RANK = { info: 0, warning: 1, critical: 2 } as const;

export interface ChannelNotifierOptions {
  plan: Plan;
  /** Default: the plan's notifications.channels. */
  channels?: NotifyChannel[];
  /** Where urlEnv / tokenEnv are looked up, and a command hook's environment comes from
   * (CanaryEnv.vars, src/env.ts). */
  env: Readonly<Record<string, string | undefined>>;
  /** Deliveries waiting per channel (default: the plan's notifications.queue, else 100). */
  queueLimit?: number;
  /** Working directory of command hooks (default: the process's). */
  cwd?: string;
}

interface Job {
  effect: NotifyEffect;
  at: number;
  report: (r: NotifyReport) => void;
}

interface Lane {
  channel: NotifyChannel;
  url?: string;
  token?: string;
  secrets: string[];
  queue: Job[];
  busy: boolean;
}

/** What a webhook receives: plain JSON, stable field names. */
export function webhookPayload(plan: Plan, effect: NotifyEffect, at: number): Record<string, unknown> {
  return {
    source: 'canary',
    plan: plan.metadata.name,
    service: plan.metadata.service,
    version: plan.metadata.version,
    kind: effect.kind ?? 'info',
    severity: effect.severity,
    text: effect.message,
    at: new Date(at).toISOString(),
    effectId: effect.id,
    ...(effect.incident !== undefined ? { incident: effect.incident } : {}),
    ...(effect.recipients ? { recipients: effect.recipients } : {}),
  };
}

const EMOJI = { info: ':information_source:', warning: ':warning:', critical: ':rotating_light:' } as const;

/** A Slack incoming-webhook body: `text` (the fallback every client shows) and blocks. */
export function slackPayload(plan: Plan, effect: NotifyEffect, at: number): { text: string; blocks: unknown[] } {
  // Slack refuses a section over 3,000 characters: a long report is cut, and says so.
  const SECTION = 2_900;
  const body = effect.message.length > SECTION ? `${effect.message.slice(0, SECTION)}\n… (cut at ${SECTION} of ${effect.message.length} characters; the whole report is in canary's reports directory)` : effect.message;
  const text = `${EMOJI[effect.severity]} ${body}`;
  const blocks: unknown[] = [{ type: 'section', text: { type: 'mrkdwn', text } }];
  if (effect.recipients?.length)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Paging:* ${effect.recipients.map((r) => `${r.title}: ${r.name ?? 'nobody'}${r.slack ? ` (${r.slack})` : ''}`).join(', ')}` } });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `canary · ${plan.metadata.name} · ${effect.kind ?? 'info'}${effect.incident ? ` · ${effect.incident}` : ''} · ${new Date(at).toISOString()}` }] });
  return { text, blocks };
}

class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

export class ChannelNotifier implements Notifier {
  private readonly lanes: Lane[] = [];
  private readonly limit: number;
  private closed = false;
  private readonly waiters: (() => void)[] = [];
  private readonly inflight = new Set<AbortController>();
  /** Channels that are off, and why (an environment variable not set): for the console. */
  readonly off: string[] = [];
  private readonly env: Readonly<Record<string, string | undefined>>;

  constructor(private readonly opts: ChannelNotifierOptions) {
    const env = (this.env = opts.env);
    this.limit = opts.queueLimit ?? opts.plan.notifications?.queue ?? 100;
    for (const channel of opts.channels ?? opts.plan.notifications?.channels ?? []) {
      const url = channel.urlEnv ? env[channel.urlEnv] : undefined;
      const token = channel.tokenEnv ? env[channel.tokenEnv] : undefined;
      if (channel.urlEnv && !url) {
        this.off.push(`${channel.name}: $${channel.urlEnv} is not set`);
        continue;
      }
      if (url) {
        try {
          const u = new URL(url);
          if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
        } catch {
          this.off.push(`${channel.name}: $${channel.urlEnv} is not an http(s) URL`);
          continue;
        }
      }
      const secrets: string[] = [];
      if (url) {
        secrets.push(url);
        const u = new URL(url);
        if (u.pathname.length > 1) secrets.push(u.pathname + u.search);
        if (u.username || u.password) secrets.push(u.username, u.password);
      }
      if (token) secrets.push(token);
      this.lanes.push({ channel, ...(url ? { url } : {}), ...(token ? { token } : {}), secrets: secrets.filter((x) => x.length >= 4), queue: [], busy: false });
    }
  }

  /** Channel names that will get notifications. */
  get channels(): string[] {
    return this.lanes.map((l) => l.channel.name);
  }

  notify(effect: NotifyEffect, ctx: { at: number; report(r: NotifyReport): void }): void {
    if (this.closed) return;
    // Named channels (a report's): each is used whatever its `on` says, and one that is off or
    // unknown is reported as a failure, never skipped in silence.
    if (effect.channels) {
      for (const name of effect.channels) {
        if (this.lanes.some((l) => l.channel.name === name)) continue;
        const off = this.off.find((o) => o.startsWith(`${name}: `));
        const detail = off ? `channel is off (${off.slice(name.length + 2)})` : `no channel "${name}" in notifications.channels`;
        setImmediate(() => ctx.report({ effectId: effect.id, channel: name, ok: false, detail, attempts: 0 }));
      }
    }
    for (const lane of this.lanes) {
      const c = lane.channel;
      if (effect.channels) {
        if (!effect.channels.includes(c.name)) continue;
      } else if (c.on && !c.on.includes(effect.kind ?? 'info')) continue;
      else if (SEVERITY_RANK[effect.severity] < SEVERITY_RANK[c.minSeverity]) continue;
      if (lane.queue.length >= this.limit) {
        const dropped = lane.queue.shift()!;
        dropped.report({ effectId: dropped.effect.id, channel: c.name, ok: false, detail: `dropped: more than ${this.limit} notifications waiting for ${c.name}`, attempts: 0 });
      }
      lane.queue.push({ effect, at: ctx.at, report: ctx.report });
      if (!lane.busy) {
        lane.busy = true;
        // Later, never inside the caller's dispatch.
        setImmediate(() => void this.drain(lane));
      }
    }
  }

  /** Resolves when every queue is empty and nothing is in flight (tests, shutdown). */
  idle(): Promise<void> {
    if (this.lanes.every((l) => !l.busy)) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** Stops: in-flight deliveries are aborted, queued ones are dropped (not reported). */
  close(): void {
    this.closed = true;
    for (const l of this.lanes) l.queue.length = 0;
    for (const c of this.inflight) c.abort();
  }

  private async drain(lane: Lane): Promise<void> {
    try {
      while (lane.queue.length && !this.closed) {
        const job = lane.queue.shift()!;
        const r = await this.deliver(lane, job);
        if (!this.closed) job.report(r);
      }
    } finally {
      lane.busy = false;
      if (this.lanes.every((l) => !l.busy)) for (const w of this.waiters.splice(0)) w();
    }
  }

  private async deliver(lane: Lane, job: Job): Promise<NotifyReport> {
    const c = lane.channel;
    const retries = c.retries;
    let wait = parseDuration(c.backoff) ?? 1_000;
    let last = '';
    for (let attempt = 1; ; attempt++) {
      try {
        const detail = await this.attempt(lane, job);
        return { effectId: job.effect.id, channel: c.name, ok: true, detail: attempt > 1 ? `${detail} (attempt ${attempt})` : detail, attempts: attempt };
      } catch (err) {
        const retry = err instanceof DeliveryError ? err.retry : true;
        last = this.scrub(lane, err instanceof Error ? err.message : String(err));
        if (!retry || attempt > retries || this.closed) return { effectId: job.effect.id, channel: c.name, ok: false, detail: `${last}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}`, attempts: attempt };
      }
      await new Promise<void>((r) => setTimeout(r, wait).unref?.());
      wait *= 2;
    }
  }

  /** Every channel's secrets, not only this lane's: a command hook could print another's URL. */
  private scrub(_lane: Lane, text: string): string {
    let out = text;
    for (const l of this.lanes) for (const s of l.secrets) out = out.split(s).join('***');
    return out;
  }

  /** The environment a command hook gets: canary's, minus every channel's URL and token variables. */
  private hookEnv(job: Job): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...this.env, CANARY_NOTIFY_KIND: job.effect.kind ?? 'info', CANARY_NOTIFY_SEVERITY: job.effect.severity };
    for (const l of this.lanes) {
      if (l.channel.urlEnv) delete env[l.channel.urlEnv];
      if (l.channel.tokenEnv) delete env[l.channel.tokenEnv];
    }
    return env;
  }

  private attempt(lane: Lane, job: Job): Promise<string> {
    const c = lane.channel;
    const timeoutMs = parseDuration(c.timeout) ?? 5_000;
    if (c.type === 'command') return this.runCommand(c, job, timeoutMs);
    const body = JSON.stringify(c.type === 'slack' ? slackPayload(this.opts.plan, job.effect, job.at) : webhookPayload(this.opts.plan, job.effect, job.at));
    return this.post(lane, body, timeoutMs);
  }

  private async post(lane: Lane, body: string, timeoutMs: number): Promise<string> {
    const ctl = new AbortController();
    this.inflight.add(ctl);
    const timer = setTimeout(() => ctl.abort(new DeliveryError(`no answer after ${timeoutMs} ms`, true)), timeoutMs);
    try {
      const res = await fetch(lane.url!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'canary', ...(lane.token ? { authorization: `Bearer ${lane.token}` } : {}) },
        body,
        signal: ctl.signal,
      });
      const text = await res.text().catch(() => '');
      if (res.ok) return `HTTP ${res.status}`;
      const hint = res.status === 401 || res.status === 403 ? `: check $${lane.channel.tokenEnv ?? lane.channel.urlEnv}` : res.status === 404 ? `: check $${lane.channel.urlEnv}` : '';
      throw new DeliveryError(`HTTP ${res.status}${text ? ` ${text.slice(0, 80).replace(/\s+/g, ' ')}` : ''}${hint}`, res.status >= 500 || res.status === 429 || res.status === 408);
    } catch (err) {
      if (err instanceof DeliveryError) throw err;
      if (ctl.signal.aborted && ctl.signal.reason instanceof DeliveryError) throw ctl.signal.reason;
      if (ctl.signal.aborted) throw new DeliveryError('stopped', false);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new DeliveryError(cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err)), true);
    } finally {
      clearTimeout(timer);
      this.inflight.delete(ctl);
    }
  }

  private async runCommand(c: NotifyChannel, job: Job, timeoutMs: number): Promise<string> {
    const cmd = c.command![0]!;
    // The same runner as every hook: own process group, timeout, output scrubbed.
    const r = await execCommand({
      command: c.command!,
      timeoutMs,
      stdout: 'ignore',
      stdin: JSON.stringify(webhookPayload(this.opts.plan, job.effect, job.at)),
      env: this.hookEnv(job),
      ...(this.opts.cwd ? { cwd: this.opts.cwd } : {}),
      secrets: this.lanes.flatMap((l) => l.secrets),
      keep: 20,
    });
    if (r.error) throw new DeliveryError(`${cmd}: ${r.error}`, false);
    if (r.timedOut) throw new DeliveryError(`${cmd}: ${describeExit(r, timeoutMs)}`, true);
    if (r.code === 0) return `${cmd} exited 0`;
    const first = r.stderr.trim().split('\n')[0] ?? '';
    throw new DeliveryError(`${cmd} exited ${r.code ?? r.signal}${first ? `: ${first.slice(0, 120)}` : ''}`, true);
  }
}
