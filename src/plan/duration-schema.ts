// The zod type of a duration in a plan (./duration.ts parses and formats them): the schema and the
// `simulate:` settings validate with it; nothing that only reads a validated plan needs it.
import { z } from 'zod';
import { parseDuration } from './duration.js';

/** A duration written the way people write them in plans: 30s, 5m, 4h, 7d. */
export const Duration = z
  .string({ error: 'expected a duration such as "30s", "5m", "4h" or "7d"' })
  .refine((s) => parseDuration(s) !== undefined, {
    message: 'expected a duration: a number followed by ms, s, m, h, d or w (e.g. "24h", "4h", "7d"), at most 3650d',
    // Text that is no duration at all is one mistake: the checks built on this one (longer than
    // 0, at most 24d) would only repeat it in other words.
    abort: true,
  });
