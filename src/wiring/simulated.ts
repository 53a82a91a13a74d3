// The embedded simulated world: simulated clock, SLIs, pods and traffic.
import { simClock, simSource, type Common, type ModeParts } from './parts.js';

export async function simulatedParts(c: Common): Promise<ModeParts> {
  // Back-pressure: the rollout's clock is the world's time, so it never runs ahead of what the
  // world has produced; the simulated clock is the pace the world is asked to keep.
  const pace = simClock(c);
  const source = simSource(c, pace, { samples: true, pods: true });
  return {
    clock: source.time,
    sources: [source],
    traffic: c.world,
    serveByDefault: true,
    pace: { clock: pace, actual: () => source.actualSpeed(), average: () => source.averageSpeed() },
    close: () => undefined,
  };
}
