// The commands that read a journal: status, audit verify, report.
import { statSync } from 'node:fs';
import { replayJournal, verifyJournal } from '../../journal/journal.js';
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
  const { plan, planText } = planAndText(values, { cacheDir: planCacheDir(ctx.env) });
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

/** `canary report <journal> [--plan file]`: the Markdown retrospective. */
export async function report(file: string, values: { plan?: string | undefined }, ctx: Ctx): Promise<number> {
  journalFile(file);
  const { plan, planText } = planAndText(values, { cacheDir: planCacheDir(ctx.env) });
  const key = ctx.env.journalKey;
  try {
    ctx.out.write(reportOf(plan, file, { planText, ...(key ? { key } : {}) }));
  } catch (err) {
    throw new UserError(`${file}: ${messageOf(err)}`);
  }
  return 0;
}

