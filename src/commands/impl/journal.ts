// The commands that read a journal: status, audit verify, report.
import { statSync } from 'node:fs';
import { readJournal, replayJournal, verifyJournal } from '../../journal/journal.js';
import { matchingReports, regenerateReport } from '../../reports/from-journal.js';
import { parseStartAt, startAtInstant } from '../../engine/calendar.js';
import { report as reportOf } from '../../journal/report.js';
import { statusText } from '../../status.js';
import { planCacheDir } from '../../env.js';
import { planAndText } from '../../wiring/plan.js';
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
  const { plan, planText } = await planAndText(values, { cacheDir: planCacheDir(ctx.env) });
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
    r = verifyJournal(file, { ...(key ? { key } : {}), ...(values['expect-head'] ? { expectedHead: values['expect-head'].trim() } : {}) });
  } catch (err) {
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

/** `canary report <journal> [--plan file]`: the Markdown retrospective; with --kind/--name, one of
 * the plan's stakeholder reports, regenerated from the journal. */
export async function report(
  file: string,
  values: { plan?: string | undefined; kind?: 'daily' | 'weekly' | undefined; name?: string | undefined; at?: string | undefined },
  ctx: Ctx,
): Promise<number> {
  journalFile(file);
  const { plan, planText } = await planAndText(values, { cacheDir: planCacheDir(ctx.env) });
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

