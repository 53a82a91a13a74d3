// What of a runbook command's output is kept (dispatched as command.output events, and so
// journaled). A command can print without end (a chatty deploy for minutes, a check gone wrong: a
// 30 MB print went into the journal in one line, ~4 MB), while the state keeps only the last
// RUN_LINES of a run. So every line is cut at LINE_CHARS, and the output goes on as it comes (the
// console shows it live) up to HEAD_LINES lines or HEAD_CHARS characters; past that, one line says
// so at once, and only the last TAIL lines are given, at the end, after a line that says how many
// lines and characters were left out. A run's journal entries are then bounded whatever it prints.

/** Lines and characters passed on as they come. */
export const HEAD_LINES = 2000;
export const HEAD_CHARS = 1 << 20;
/** Lines kept from the end once past the head (RUN_LINES of the state: what a person sees last). */
export const TAIL = 200;
/** Characters kept of one line. */
export const LINE_CHARS = 4096;

export class OutputCap {
  private lines = 0;
  private chars = 0;
  private capped = false;
  private tail: string[] = [];
  private dropped = 0;
  private droppedChars = 0;

  constructor(private readonly emit: (lines: string[]) => void) {}

  /** A batch of lines as the runner gives them. */
  push(batch: readonly string[]): void {
    const now: string[] = [];
    for (const raw of batch) {
      const line = raw.length > LINE_CHARS ? `${raw.slice(0, LINE_CHARS)} … (${(raw.length - LINE_CHARS).toLocaleString('en-US')} more characters not kept)` : raw;
      if (!this.capped && (this.lines >= HEAD_LINES || this.chars + line.length > HEAD_CHARS)) {
        this.capped = true;
        now.push(`… more than ${this.lines.toLocaleString('en-US')} lines of output: the rest is not shown as it comes; its last ${TAIL} lines are kept when the command ends`);
      }
      if (!this.capped) {
        this.lines++;
        this.chars += line.length;
        now.push(line);
        continue;
      }
      this.tail.push(line);
      if (this.tail.length > TAIL) {
        const out = this.tail.shift()!;
        this.dropped++;
        this.droppedChars += out.length;
      }
    }
    if (now.length) this.emit(now);
  }

  /** The end of the output, once the command has ended (before its result). */
  end(): void {
    if (!this.capped) return;
    this.emit([`… ${this.dropped.toLocaleString('en-US')} lines (${this.droppedChars.toLocaleString('en-US')} characters) of output not kept; the last ${this.tail.length}:`, ...this.tail]);
    this.tail = [];
  }
}
