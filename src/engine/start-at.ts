// `--start-at` and `--at` as text: parsed without the plan (so the option table checks it when the
// command line is parsed, before anything heavy loads); calendar.ts turns it into an instant once
// the plan's time zone is known. A leaf: it imports nothing.

/** `--start-at`: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]` (in the plan's time zone), or either with
 * `Z` / `±HH:MM` (that offset). A problem in words, or the parts to resolve once the plan is known. */
export interface StartAt {
  date: string;
  hh: number;
  mm: number;
  ss: number;
  /** Minutes east of UTC, when the text gave an offset; absent: the plan's time zone. */
  offsetMin?: number;
}

const START_AT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

export function parseStartAt(text: string): StartAt | string {
  const m = START_AT.exec(text.trim());
  const expected = 'expected an ISO date-time such as 2026-12-25T09:00 (in the plan\'s metadata.timezone), 2026-12-25T14:00Z or 2026-12-25T09:00-05:00';
  if (!m) return `"${text}" is not a date-time; ${expected}`;
  const [, y, mo, d, hh = '00', mi = '00', ss = '00', zone] = m;
  const date = `${y}-${mo}-${d}`;
  const probe = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(probe.getTime()) || probe.toISOString().slice(0, 10) !== date) return `"${text}": ${date} is not a day of the calendar; ${expected}`;
  if (Number(hh) > 23 || Number(mi) > 59 || Number(ss) > 59) return `"${text}": ${hh}:${mi}:${ss} is not a time of day; ${expected}`;
  if (zone !== undefined && !/^[+-]\d{2}:?\d{2}$/.test(zone) && zone !== 'Z') return `"${text}": bad offset; ${expected}`;
  let offsetMin: number | undefined;
  if (zone === 'Z') offsetMin = 0;
  else if (zone !== undefined) {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    if (Number(z[2]) > 14 || Number(z[3]) > 59) return `"${text}": offset ${zone} is out of range; ${expected}`;
    offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
  }
  return { date, hh: Number(hh), mm: Number(mi), ss: Number(ss), ...(offsetMin !== undefined ? { offsetMin } : {}) };
}
