import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The files that take longest, longest first (measured on the 2-core machine with 3 workers, the
// JSON reporter's endTime - startTime per file). They start first so the run does not end waiting
// for one long file started last; the rest follow vitest's own order (its cache of last durations
// when there is one, else the larger file first). A clean clone has no cache, hence this list.
const SLOWEST_FIRST = [
  'test/runbook.e2e.test.ts',
  'test/standby.e2e.test.ts',
  'test/journal.test.ts',
  'test/loadtest.runner.test.ts',
  'test/engine.test.ts',
  'test/cli.test.ts',
  'test/cluster.test.ts',
  'test/calendar.cli.test.ts',
  'test/people.e2e.test.ts',
  'test/cluster.e2e.test.ts',
  'test/headless.test.ts',
  'test/prometheus.integration.test.ts',
  'test/backpressure.test.tsx',
];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOWEST_FIRST.findIndex((name) => f.moduleId.endsWith(name));
      return i < 0 ? SLOWEST_FIRST.length : i;
    };
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map((x) => x.f);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 20_000,
    pool: 'forks',
    // One more file at a time than there are cores (vitest's default is one fewer: a single file
    // at a time on 2 cores). Most of the long files wait (the simulated clock, leases, tmux
    // frames, Prometheus scrapes) rather than compute. Measured on the 2-core machine (load 4-5
    // from other work; vitest's Duration): one file at a time 647 s before; with the e2e files
    // concurrent inside, 2 workers 314 s, 3 workers 238 s.
    maxWorkers: availableParallelism() + 1,
    globalSetup: ['test/global-setup.ts'],
    sequence: { sequencer: SlowestFirst },
  },
});
