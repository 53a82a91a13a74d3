// Issue 16 item 3: a load test never loads somebody else's server. An unrelated HTTP server on
// 127.0.0.1 holds the port the plan's load tests aim at: the simulated service takes a free port
// and the tests follow it, and a test aimed at the unrelated server itself is refused after one
// identity request, before any load.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoadTest, Plan } from '../src/plan/schema.js';
import { PlanLoadRunner, effectiveTarget } from '../src/actuators/loadtest.js';
import { SimWorld } from '../src/sim/world.js';
import { startSimServiceOrExplain, type StartedService } from '../src/sim/serve-cli.js';
import { loadSeedPlan, T0 } from './helpers/drive.js';

const seed = loadSeedPlan();
let world: SimWorld;
let other: Server;
let otherPort: number;
let otherRequests: string[];
let started: StartedService | null = null;
let dir: string;

beforeEach(async () => {
  world = new SimWorld({ plan: seed, scenario: 'healthy', start: T0, seed: 3 });
  await world.setWeight(25, ['us-east-1', 'us-west-2', 'eu-west-1']);
  // Somebody else's server: answers 200 to everything, and counts.
  otherRequests = [];
  other = createServer((req, res) => {
    otherRequests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}\n');
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
  otherPort = (other.address() as AddressInfo).port;
  dir = mkdtempSync(join(tmpdir(), 'canary-trust-load-'));
});
afterEach(async () => {
  await started?.service.close();
  started = null;
  other.closeAllConnections();
  await new Promise<void>((r) => other.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

function smoke(target: string): LoadTest {
  return { ...seed.loadTests.find((t) => t.name === 'api-smoke')!, target, duration: '1s', connections: 4 };
}
const planWith = (t: LoadTest): Plan => ({ ...seed, loadTests: [t] });

describe('issue 16 item 3: load goes only to the service the plan means', () => {
  it('a test aimed at an unrelated server on 127.0.0.1 is refused after one identity request; no load reaches it', async () => {
    const test = smoke(`http://127.0.0.1:${otherPort}/v1/workflows`);
    const out = await new PlanLoadRunner({ plan: planWith(test), resultsDir: dir }).run(1, test, () => undefined);
    expect(out.outcome).toBe('failed');
    expect(out.summary).toBeNull();
    expect(out.detail).toBe(
      `refused: GET http://127.0.0.1:${otherPort}/.well-known/canary-target answered 200 without x-canary-target: it is not the service this plan means (maestro-conductor-vnext-rc); no load was sent. Stop whatever holds that port, or aim the test at your service and have it answer GET http://127.0.0.1:${otherPort}/.well-known/canary-target with "x-canary-target: maestro-conductor-vnext-rc"`,
    );
    expect(otherRequests).toEqual(['GET /.well-known/canary-target']);
  });

  it('a port where nothing listens is refused too, saying so', async () => {
    await new Promise<void>((r) => other.close(() => r()));
    const test = smoke(`http://127.0.0.1:${otherPort}/v1/workflows`);
    const out = await new PlanLoadRunner({ plan: planWith(test), resultsDir: dir }).run(2, test, () => undefined);
    expect(out.outcome).toBe('failed');
    expect(out.detail).toMatch(/^refused: GET http:\/\/127\.0\.0\.1:\d+\/\.well-known\/canary-target failed \(connect ECONNREFUSED/);
    other = createServer(); // afterEach closes it
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
  });

  it("the plan's port is taken: the simulated service takes a free one, the plan's test follows it, and the other server gets nothing", async () => {
    const test = smoke(`http://127.0.0.1:${otherPort}/v1/workflows`);
    const plan = planWith(test);
    const fail = (m: string): never => {
      throw new Error(m);
    };
    started = await startSimServiceOrExplain(world, { host: '127.0.0.1', port: otherPort, from: `load test "api-smoke"` }, fail, plan);
    expect(started).not.toBeNull();
    expect(started!.service.port).not.toBe(otherPort);
    expect(started!.moved).toMatchObject({ planned: `http://127.0.0.1:${otherPort}`, actual: started!.service.url });
    expect(effectiveTarget(test.target, started!.moved)).toBe(`${started!.service.url}/v1/workflows`);
    const out = await new PlanLoadRunner({ plan, resultsDir: dir, serviceMoved: started!.moved! }).run(3, test, () => undefined);
    expect(out.outcome).toBe('completed');
    expect(out.summary!.requests).toBeGreaterThan(0);
    expect(started!.service.total()).toBeGreaterThanOrEqual(out.summary!.requests);
    expect(out.detail).toContain(`was taken by another process; the simulated service serves ${started!.service.url}`);
    expect(otherRequests).toEqual([]);
  });

  it('--sim-http asked for a taken port: an error that says what to do, not a silent fallback', async () => {
    const fail = (m: string): never => {
      throw new Error(m);
    };
    await expect(startSimServiceOrExplain(world, { host: '127.0.0.1', port: otherPort, from: '--sim-http' }, fail, seed)).rejects.toThrow(
      new RegExp(`cannot serve the simulated service on 127\\.0\\.0\\.1:${otherPort} \\(from --sim-http\\): .*EADDRINUSE.*give --sim-http <host:port>`),
    );
  });
});
