// Durations as plans write them ("30s", "5m", "4h", "7d"): parsing and formatting (the zod type is
// ./duration-schema.ts). A leaf that imports nothing: the engine, the panes, the actuators and the
// load-test checks all read durations, and none of them should load the plan schema (and zod,
// ~0.6 MB that `canary start` with a cached plan never needs) or form an import circle with it.

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** The longest duration a plan may state: 10 years. Longer ones (and digits that overflow to
 * Infinity) are refused, so nothing downstream ever computes with Infinity or NaN. */
export const MAX_DURATION_MS = 3650 * 86_400_000;
/** The longest a timer can wait in Node (about 24.8 days); timeouts and backoffs must fit. */
export const MAX_TIMER_MS = 2_147_483_647;

/** "24h" -> 86400000. Returns undefined for anything that is not a duration (or is longer than
 * MAX_DURATION_MS). */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return undefined;
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
  return Number.isFinite(ms) && ms <= MAX_DURATION_MS ? ms : undefined;
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
