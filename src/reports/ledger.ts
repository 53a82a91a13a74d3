// What a stakeholder report is written from: the history entries the journal's events produced
// (each with the time it happened), kept for as long as the longest report looks back. The live
// runtime and `canary report --kind` feed it the same states (the journal's events reduced one by
// one), so a report regenerated from a journal says what the live one said. Pure.
import type { HistoryEntry, RolloutState } from '../engine/types.js';

const DAY_MS = 86_400_000;

export class ReportLedger {
  private last: HistoryEntry[] | null = null;
  private kept: HistoryEntry[] = [];

  /** `keepMs`: how far back the longest report looks (a week and a day by default). */
  constructor(private readonly keepMs = 8 * DAY_MS) {}

  /** The entries `state` added since the last state observed (states must come in order). */
  observe(state: RolloutState): void {
    const h = state.history;
    if (h === this.last) return;
    const prev = this.last;
    this.last = h;
    let fresh: HistoryEntry[];
    if (!prev || prev.length === 0) fresh = h.slice();
    else {
      // The engine's history is bounded: find where the last one seen ended, by identity.
      const i = h.lastIndexOf(prev[prev.length - 1]!);
      fresh = i >= 0 ? h.slice(i + 1) : h.slice();
    }
    if (fresh.length === 0) return;
    this.kept.push(...fresh);
    const cut = state.now - this.keepMs;
    if (this.kept.length > 64 && this.kept[0]!.at < cut) this.kept = this.kept.filter((e) => e.at >= cut);
  }

  /** Entries with from <= at <= to, oldest first. */
  between(from: number, to: number): HistoryEntry[] {
    return this.kept.filter((e) => e.at >= from && e.at <= to);
  }
}
