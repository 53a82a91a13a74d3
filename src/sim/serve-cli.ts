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

/** Starts the service. When the address was asked for (--sim-http) and cannot be had, that is an
 * error; when it only came from the plan, canary says so on stderr and goes on without it. */
export async function startSimServiceOrExplain(world: SimWorld, at: ServiceAddress, fail: (message: string) => never): Promise<SimService | null> {
  try {
    return await startSimService({ world, host: at.host, port: at.port });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const text = `cannot serve the simulated service on ${at.host}:${at.port} (from ${at.from}): ${why}; give --sim-http <host:port> (and aim the plan's load tests there) or --sim-http off`;
    if (at.from === '--sim-http') return fail(text);
    process.stderr.write(`canary: warning: ${text}; load tests aimed there reach whatever listens on it\n`);
    return null;
  }
}
