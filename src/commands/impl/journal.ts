// The commands that read a journal: status, audit verify, report.
import { statSync } from 'node:fs';
import { readJournal, replayJournal, verifyJournal } from '../../journal/journal.js';
import { matchingReports, regenerateReport } from '../../reports/from-journal.js';
import { parseStartAt, startAtInstant } from '../../engine/calendar.js';
import { report as reportOf } from '../../journal/report.js';
import { statusText } from '../../status.js';
import { planCacheDir } from '../../env.js';
import { journalPlanMismatch, planAndText } from '../../wiring/plan.js';
import { UsageError, UserError, messageOf } from '../errors.js';
import type { OutputFormat } from '../output.js';
import { formatMachine } from './machine.js';
import type { Ctx } from '../types.js';

/** A journal file that exists and is a file: else one line that says what is wrong. */
export function journalFile(file: string): string {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${file}: no such journal` : `${file}: cannot read it (${code ?? messageOf(err)})`);
  }
  if (st.isDirectory()) throw new UserError(`${file} is a directory; give the journal file in it (e.g. ${file.replace(/\/$/, '')}/<plan>.jsonl)`);
  return file;
}

/** `canary status --journal <file> [-o json|yaml]` (--json: -o json). */
export async function status(values: { journal?: string | undefined; plan?: string | undefined; output?: OutputFormat | undefined; json?: boolean | undefined }, ctx: Ctx): Promise<number> {
  if (!values.journal) throw new UsageError('canary status needs --journal <file> (status from a running `canary serve` arrives with the war room)', 'canary status');
  const output: OutputFormat = values.json ? 'json' : (values.output ?? 'text');
  const file = journalFile(values.journal);
  const loaded = await planAndText(values, { cacheDir: planCacheDir(ctx.env) });
  const { plan, planText } = loaded;
  const wrongPlan = journalPlanMismatch(file, loaded, values.plan);
  if (wrongPlan) throw new UserError(wrongPlan);
  const key = ctx.env.journalKey;
  let text: string;
  try {
    const r = replayJournal(plan, file, { planText, ...(key ? { key } : {}) });
    text = statusText(plan, r.state, { json: output !== 'text', problems: r.problems.map((p) => `${p.kind} at line ${p.line}: ${p.message}`), torn: r.torn !== null });
  } catch (err) {
    throw new UserError(`${file}: ${messageOf(err)}`);
  }
  ctx.out.write(output === 'yaml' ? formatMachine(JSON.parse(text), 'yaml') : text);
  return 0;
}

/** `canary audit verify <journal> [--expect-head seq:hash] [-o json|yaml]`. */
export async function auditVerify(file: string, values: { 'expect-head'?: string | undefined; output?: OutputFormat | undefined }, ctx: Ctx): Promise<number> {
  journalFile(file);
  const key = ctx.env.journalKey;
  let r: ReturnType<typeof verifyJournal>;
  try {
    const expectedHead = values['expect-head'] ? expandHead(file, values['expect-head'].trim(), key) : undefined;
    r = verifyJournal(file, { ...(key ? { key } : {}), ...(expectedHead !== undefined ? { expectedHead } : {}) });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UserError(`${file}: ${messageOf(err)}`);
  }
  const output = values.output ?? 'text';
  if (output === 'text') ctx.out.write(`${r.text}\n`);
  else {
    const { text: _text, ...rest } = r;
    ctx.out.write(formatMachine(rest, output));
  }
  return r.ok ? 0 : 1;
}

/** --expect-head as given (checked by `checkHead`: 16 to 64 hex digits, maybe a seq before them),
 * a prefix made whole from the entry it names: the one at that seq, or the one hash in the chain
 * that starts with it. A prefix nothing in the chain starts with is left as it is: the journal was
 * cut short or rewritten, and verifyJournal says so. */
function expandHead(file: string, text: string, key: string | undefined): string | { seq?: number; hash: string } {
  const m = /^(?:(\d+):)?([0-9a-f]+)$/.exec(text);
  if (!m || m[2]!.length === 64) return text;
  const seq = m[1] !== undefined ? Number(m[1]) : undefined;
  const prefix = m[2]!;
  const read = readJournal(file, key ? { key } : {});
  const all = [...(read.header ? [read.header] : []), ...read.entries];
  const hits = all.filter((e) => e.hash.startsWith(prefix) && (seq === undefined || e.seq === seq));
  if (hits.length > 1)
    throw new UsageError(`--expect-head ${text}: ${hits.length} entries' hashes start with ${prefix} (seq ${hits.map((e) => e.seq).join(', ')}); give more digits, or <seq>:<hash>`, 'canary audit verify');
  return hits.length === 1 ? { seq: hits[0]!.seq, hash: hits[0]!.hash } : { ...(seq !== undefined ? { seq } : {}), hash: prefix };
}

/** `canary report <journal> [--plan file]`: the Markdown retrospective; with --kind/--name, one of
 * the plan's stakeholder reports, regenerated from the journal. */
export async function report(
  file: string,
  values: { plan?: string | undefined; kind?: 'daily' | 'weekly' | undefined; name?: string | undefined; at?: string | undefined },
  ctx: Ctx,
): Promise<number> {
  journalFile(file);
  const loaded = await planAndText(values, { cacheDir: planCacheDir(ctx.env) });
  const { plan, planText } = loaded;
  // The retrospective says so too ("Plan file: changed since the journal was written").
  const wrongPlan = journalPlanMismatch(file, loaded, values.plan);
  if (wrongPlan) ctx.err.write(`canary: warning: ${wrongPlan}\n`);
  const key = ctx.env.journalKey;
  if (values.kind !== undefined || values.name !== undefined || values.at !== undefined) {
    const sel = { ...(values.kind ? { every: values.kind } : {}), ...(values.name ? { name: values.name } : {}) };
    const wanted = matchingReports(plan, sel);
    if (typeof wanted === 'string') throw new UsageError(`canary report: ${wanted}`, 'canary report');
    let at: number | undefined;
    if (values.at !== undefined) {
      const p = parseStartAt(values.at);
      if (typeof p === 'string') throw new UsageError(`--at ${p}`, 'canary report');
      at = startAtInstant(plan, p);
    }
    let r: ReturnType<typeof regenerateReport>;
    try {
      const read = readJournal(file, { ...(key ? { key } : {}) });
      if (!read.header) throw new Error('no journal header: nothing to report');
      r = regenerateReport(plan, read, { ...sel, ...(at !== undefined ? { at } : {}) });
    } catch (err) {
      throw new UserError(`${file}: ${messageOf(err)}`);
    }
    if (typeof r === 'string') throw new UserError(`${file}: ${r}`);
    ctx.out.write(r.markdown);
    return 0;
  }
  try {
    ctx.out.write(reportOf(plan, file, { planText, ...(key ? { key } : {}) }));
  } catch (err) {
    throw new UserError(`${file}: ${messageOf(err)}`);
  }
  return 0;
}

