// Writes stakeholder reports (the plan's `reports`) into a directory beside the journal: the
// Markdown rendered from the journal's facts (src/reports/render.ts) as of the state the report
// was decided in, with the history entries the ledger kept.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Plan } from '../plan/schema.js';
import type { RolloutState } from '../engine/types.js';
import type { ReportEffect, ReportProducer } from '../runtime/ports.js';
import { ReportLedger } from '../reports/ledger.js';
import { renderReport, reportFileName } from '../reports/render.js';

export class DirectoryReportProducer implements ReportProducer {
  constructor(
    private readonly plan: Plan,
    readonly dir: string,
    private readonly ledger: ReportLedger,
  ) {}

  async produce(effect: ReportEffect, state: RolloutState): Promise<{ file: string; markdown: string }> {
    // The state the report was decided in may be newer than what the ledger has seen.
    this.ledger.observe(state);
    const markdown = renderReport(this.plan, state, this.ledger.between(effect.from, effect.dueAt), effect);
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, reportFileName(this.plan, effect));
    await writeFile(file, markdown, 'utf8');
    return { file, markdown };
  }
}

/** `<journal>.jsonl` -> `<journal>-reports/`: each run's reports beside its own journal. */
export function reportsDirFor(journalPath: string): string {
  return `${journalPath.replace(/\.jsonl$/, '')}-reports`;
}
