// Where the CLI serves the simulated service: --sim-http host:port, "off", or (default) the one
// loopback address the plan's http load tests aim at (config: http://127.0.0.1:8080).
import type { Plan } from '../plan/schema.js';
import { isLoopbackHost } from '../plan/loadtests.js';
import { startSimService, type SimService } from './serve.js';
import type { SimWorld } from './world.js';

export interface ServiceAddress {
  host: string;
  port: number;
  /** Where the address came from, for the error message. */
  from: string;
}

export function simServiceAddress(plan: Plan, flag: string | undefined): ServiceAddress | null {
  if (flag === 'off') return null;
  if (flag !== undefined) {
    const m = /^([^:]+|\[[^\]]+\]):(\d+)$/.exec(flag);
    if (!m) throw new Error(`--sim-http expects host:port (e.g. 127.0.0.1:8080) or off, got "${flag}"`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]), from: '--sim-http' };
  }
  for (const t of plan.loadTests) {
    if (!/^https?:/.test(t.target)) continue;
    const u = new URL(t.target);
    if (u.protocol !== 'http:' || !isLoopbackHost(u.hostname)) continue;
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80), from: `load test "${t.name}" (target ${t.target})` };
  }
  return null;
}

export interface StartedService {
  service: SimService;
  /** Set when the plan's address was taken and the service took a free port instead: the load
   * runner aims the plan's tests there (PlanLoadRunner's serviceMoved). */
  moved?: { planned: string; actual: string; why: string };
}

/** Starts the service, answering the identity check with the plan's name. When the address was
 * asked for (--sim-http) and cannot be had, that is an error; when it only came from the plan and
 * another process holds it, the service takes a free loopback port and the load tests follow it
 * (they never load the other process: the identity check refuses it anyway). */
export async function startSimServiceOrExplain(world: SimWorld, at: ServiceAddress, fail: (message: string) => never, plan?: Plan): Promise<StartedService | null> {
  const identity = plan?.metadata.name;
  try {
    return { service: await startSimService({ world, host: at.host, port: at.port, ...(identity ? { identity } : {}) }) };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const text = `cannot serve the simulated service on ${at.host}:${at.port} (from ${at.from}): ${why}; give --sim-http <host:port> (and aim the plan's load tests there) or --sim-http off`;
    if (at.from === '--sim-http') return fail(text);
    try {
      const service = await startSimService({ world, host: at.host, port: 0, ...(identity ? { identity } : {}) });
      const host = at.host.includes(':') ? `[${at.host}]` : at.host;
      return { service, moved: { planned: `http://${host}:${at.port}`, actual: service.url, why } };
    } catch {
      process.stderr.write(`canary: warning: ${text}; load tests are refused (the identity check finds no simulated service)\n`);
      return null;
    }
  }
}
