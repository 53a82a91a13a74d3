// The incident demo in a real terminal: tmux runs the built CLI on the embedded world at one
// simulated minute per real half-second, with its Slack channel pointed at a receiver on
// 127.0.0.1. Declare a P0, watch the clock page the 15-minute step, acknowledge it, and see that
// the 30-minute step never comes and the receiver got the pages. Under CI=true a missing tmux
// fails (the console e2e test says so too); it is never skipped there.
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { screen, tmux, waitFor } from './helpers/tmux.js';

const root = join(import.meta.dirname, '..');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux && process.env.CI) throw new Error('tmux is required for the incident e2e test (apt-get install -y tmux)');

const sessions: string[] = [];
const servers: Server[] = [];
const stateDir = mkdtempSync(join(tmpdir(), 'canary-people-e2e-'));

describe.skipIf(!hasTmux)('incident demo in a real terminal (tmux)', () => {
  afterEach(() => {
    for (const s of sessions.splice(0)) spawnSync('tmux', ['kill-session', '-t', s]);
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      s.close();
    }
  });

  it('declare a P0, watch the clock page the 15-minute step, acknowledge: the 30-minute step never comes', async () => {
    const got: { text: string }[] = [];
    const server = createServer((req, res) => {
      let d = '';
      req.on('data', (c: Buffer) => (d += c.toString())).on('end', () => {
        got.push(JSON.parse(d) as { text: string });
        res.writeHead(200).end('ok');
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0/B0/e2e-secret`;
    const name = `canary-people-e2e-${process.pid}`;
    sessions.push(name);
    const env = `env -u CI NO_COLOR=1 XDG_STATE_HOME=${stateDir} CANARY_SLACK_WEBHOOK_URL=${url}`;
    tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '40', `cd ${root} && ${env} node dist/canary.mjs start --speed 120 --scenario healthy --comms-dir ${stateDir}/comms; echo EXITED $?; sleep 30`);
    await waitFor(name, (x) => /Roster/.test(x) && /on call/.test(x));
    tmux('send-keys', '-t', name, 'i');
    await waitFor(name, (x) => x.includes('Declare an incident'));
    tmux('send-keys', '-t', name, '-l', 'checkout 503s');
    await waitFor(name, (x) => x.includes('checkout 503s'));
    tmux('send-keys', '-t', name, 'Enter');
    const opened = await waitFor(name, (x) => /● INC-1 P0/.test(x) && /next in \d+m/.test(x));
    expect(opened).toMatch(/paged (Ana Ortiz|Ben Okafor|Chloe Lindqvist), Dev Raman/);
    expect(opened).toMatch(/next in 1[0-5]m\S*: Product Manager, CTO/);
    // 15 simulated minutes later the product lead and the CTO are paged
    const second = await waitFor(name, (x) => /Emma Brandt/.test(x.split('Roster')[1] ?? '') && /next in \S+: CEO, VP Customer Success/.test(x));
    expect(second).toMatch(/paged .*Dev Raman, Emma Brandt/);
    // ! asks (k is movement): the dialog names the incident, y acknowledges
    tmux('send-keys', '-t', name, '-l', '!');
    await waitFor(name, (x) => /Acknowledge an incident/.test(x));
    tmux('send-keys', '-t', name, 'y');
    const acked = await waitFor(name, (x) => /clock stopped: acked by/.test(x));
    expect(acked).toMatch(/○ INC-1 P0/);
    // well past 30 simulated minutes: still stopped, nobody else paged
    await waitFor(name, (x) => /INC-1 P0 (3[3-9]|[4-9]\d)m/.test(x));
    const later = screen(name);
    expect(later).toMatch(/clock stopped/);
    expect(later).not.toMatch(/Kay Osei|Grace Kim/);
    // the Slack receiver got the incident, both pages and the acknowledgment; never the CEO page
    const texts = got.map((g) => g.text);
    expect(texts.some((t) => t.includes('INC-1 P0 (Service Down) opened by'))).toBe(true);
    expect(texts.some((t) => t.includes('INC-1 P0 (after 15m) paging Product Manager Emma Brandt'))).toBe(true);
    expect(texts.some((t) => t.includes('INC-1 P0 acknowledged by'))).toBe(true);
    expect(texts.some((t) => t.includes('(after 30m)'))).toBe(false);
    tmux('send-keys', '-t', name, 'q');
    // a rollout in progress asks first
    if (/Quit/.test(await waitFor(name, (x) => /Quit|EXITED/.test(x)))) tmux('send-keys', '-t', name, 'y');
    await waitFor(name, (x) => /EXITED 0/.test(x));
  }, 90_000);
});
