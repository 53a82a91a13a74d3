// Durations as plans write them (30s, 5m, 4h, 7d) and as panes show them. Its own module so that
// every part of src/plan can use it without importing schema.ts (no import circles).
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "24h" -> 86400000. Returns undefined for anything that is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

/** 86400000 -> "24h", 90000 -> "1m30s". Used by summaries and panes. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '∞';
  const neg = ms < 0;
  let s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400); s -= d * 86_400;
  const h = Math.floor(s / 3_600); s -= h * 3_600;
  const m = Math.floor(s / 60); s -= m * 60;
  const parts: string[] = [];
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m && d === 0) parts.push(`${m}m`);
  if (s && d === 0 && h === 0) parts.push(`${s}s`);
  return (neg ? '-' : '') + (parts.length ? parts.join('') : '0s');
}

