// The embedded simulated world: simulated clock, SLIs, pods and traffic.
import { simClock, simSource, type Common, type ModeParts } from './build.js';

export async function simulatedParts(c: Common): Promise<ModeParts> {
  const clock = simClock(c);
  return { clock, sources: [simSource(c, clock, { samples: true, pods: true })], traffic: c.world, serveByDefault: true, close: () => undefined };
}
